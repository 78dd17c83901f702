"""Admin reads: the ticket list with its filters and search, ticket detail, stats, query counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import AGENT, ALICE, BOB
from tickets.tables import Category, Comment, Ticket, TicketAttachment

OTHER_AGENT = "other.agent@example.com"


async def add_ticket(title: str = "A ticket", *, category: str = "general", **fields: Any) -> int:
    """A ticket written straight to the database, so any field can be set."""
    row = await Category.select(Category.id).where(Category.name == category).first()
    ticket = Ticket(title=title, category=row["id"], **fields)
    await ticket.save()
    return ticket.id


async def listed(admin: httpx.AsyncClient, **params: Any) -> list[str]:
    """Titles on the first page of GET /admin/tickets, in the order returned."""
    response = await admin.get("/admin/tickets", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["results"])
    return [ticket["title"] for ticket in body["results"]]


# The ticket list


async def test_list_shows_every_customers_and_partners_tickets_newest_first(
    admin, customer, other_customer, partner
):
    alice = await customer.post("/customer/tickets", json={"title": "Alice's"})
    bob = await other_customer.post("/customer/tickets", json={"title": "Bob's"})
    ext = await partner.post("/external/tickets", json={"title": "Partner's", "external_ref": "P-1"})
    assert {alice.status_code, bob.status_code, ext.status_code} == {201}

    response = await admin.get("/admin/tickets")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    newest_first = [ext.json()["ticket_id"], bob.json()["id"], alice.json()["id"]]
    assert [t["id"] for t in body["results"]] == newest_first
    assert [t["customer_id"] for t in body["results"]] == [None, BOB, ALICE]
    assert [t["source"] for t in body["results"]] == ["external", "customer", "customer"]
    assert "comments" not in body["results"][0]


async def test_list_orders_by_creation_time_not_by_id(admin):
    now = datetime.now(UTC)
    await add_ticket("middle", created_at=now - timedelta(hours=2))
    await add_ticket("newest", created_at=now - timedelta(hours=1))
    await add_ticket("oldest", created_at=now - timedelta(hours=3))

    assert await listed(admin) == ["newest", "middle", "oldest"]


@pytest.fixture
async def catalogue() -> None:
    """Four tickets that differ in every filterable field (created A, B, C, D in that order)."""
    await add_ticket(
        "A", status="open", priority="low", category="billing", assigned_to=AGENT, source="customer"
    )
    await add_ticket(
        "B",
        status="in_progress",
        priority="high",
        category="technical",
        assigned_to=OTHER_AGENT,
        source="external",
    )
    await add_ticket("C", status="resolved", priority="high", category="billing", source="customer")
    await add_ticket(
        "D", status="closed", priority="medium", category="general", assigned_to=AGENT, source="external"
    )


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "open"}, ["A"]),
        ({"status": "in_progress"}, ["B"]),
        ({"status": "resolved"}, ["C"]),
        ({"status": "closed"}, ["D"]),
        ({"priority": "high"}, ["C", "B"]),
        ({"priority": "low"}, ["A"]),
        ({"category": "billing"}, ["C", "A"]),
        ({"category": "general"}, ["D"]),
        ({"assigned_to": AGENT}, ["D", "A"]),
        ({"assigned_to": OTHER_AGENT}, ["B"]),
        ({"source": "external"}, ["D", "B"]),
        ({"source": "customer"}, ["C", "A"]),
    ],
)
async def test_each_filter_alone(admin, catalogue, params, expected):
    assert await listed(admin, **params) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"priority": "high", "category": "billing"}, ["C"]),
        ({"source": "external", "assigned_to": AGENT}, ["D"]),
        ({"source": "customer", "priority": "low", "status": "open", "category": "billing"}, ["A"]),
        ({"status": "open", "priority": "high"}, []),
    ],
)
async def test_filters_combine_with_and(admin, catalogue, params, expected):
    assert await listed(admin, **params) == expected


@pytest.mark.parametrize("key", ["status", "priority", "source"])
async def test_invalid_enum_filter_is_400_naming_the_key(admin, catalogue, key):
    response = await admin.get("/admin/tickets", params={key: "bogus"})

    assert response.status_code == 400
    body = response.json()
    assert body["status_code"] == 400
    assert [problem["key"] for problem in body["extra"]] == [key]


# Search (q)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "Broken NEEDLE printer"),
        ("description", "There is a neeDle in the tray"),
        ("external_ref", "REF-NEEDLE-7"),
        ("customer_id", "needle.person@example.com"),
        ("assigned_to", "Needle.Agent@example.com"),
    ],
)
async def test_q_matches_each_searched_field_case_insensitively(admin, field, value):
    fields = {"title": "Unrelated", field: value}
    await add_ticket(**fields)
    await add_ticket("Decoy", description="nothing here", external_ref="REF-1", customer_id=ALICE)

    assert await listed(admin, q="nEEdle") == [fields["title"]]


async def test_q_without_match_returns_empty_page(admin):
    await add_ticket("Printer jam", description="paper stuck", customer_id=ALICE, assigned_to=AGENT)

    response = await admin.get("/admin/tickets", params={"q": "zebra"})

    assert response.status_code == 200
    assert response.json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "page": 1,
        "page_size": 20,
        "results": [],
    }


@pytest.mark.parametrize(
    ("q", "expected"),
    [("%", ["100% done"]), ("_", ["snake_case"]), ("\\", ["C:\\temp"]), ("0%", ["100% done"])],
)
async def test_q_wildcards_match_literally(admin, q, expected):
    for title in ("100% done", "1000 done", "snake_case", "snake case", "C:\\temp"):
        await add_ticket(title)

    assert await listed(admin, q=q) == expected


async def test_q_combines_with_filters(admin):
    await add_ticket("Printer jam", priority="high")
    await add_ticket("Printer toner", priority="low")
    await add_ticket("Login fails", priority="high")

    assert await listed(admin, q="printer", priority="high") == ["Printer jam"]


# Detail


async def test_detail_of_any_customers_ticket_with_comments_oldest_first(admin, other_customer):
    created = await other_customer.post(
        "/customer/tickets", json={"title": "Bob's ticket", "priority": "high", "category": "billing"}
    )
    ticket_id = created.json()["id"]
    for client, role, message in (
        (other_customer, "customer", "first"),
        (admin, "admin", "second"),
        (other_customer, "customer", "third"),
    ):
        reply = await client.post(f"/{role}/tickets/{ticket_id}/comments", json={"message": message})
        assert reply.status_code == 201, reply.text

    response = await admin.get(f"/admin/tickets/{ticket_id}")

    assert response.status_code == 200
    detail = response.json()
    unchanged = {k: v for k, v in created.json().items() if k not in ("updated_at", "comments")}
    assert {k: v for k, v in detail.items() if k in unchanged} == unchanged
    assert detail["attachments"] == []
    assert [(c["author"], c["role"], c["message"], c["ticket_id"]) for c in detail["comments"]] == [
        (BOB, "customer", "first", ticket_id),
        (AGENT, "admin", "second", ticket_id),
        (BOB, "customer", "third", ticket_id),
    ]


@pytest.mark.parametrize("ticket_id", ["999", "0", "99999999999999999999"])
async def test_detail_of_unknown_ticket_is_404(admin, ticket_id):
    await add_ticket()

    response = await admin.get(f"/admin/tickets/{ticket_id}")

    assert response.status_code == 404
    assert response.json() == {"status_code": 404, "detail": "Ticket not found"}


# Stats

ZERO_STATS = {
    "by_status": {"open": 0, "in_progress": 0, "resolved": 0, "closed": 0},
    "by_priority": {"low": 0, "medium": 0, "high": 0},
    "by_source": {"customer": 0, "external": 0},
    "by_category": {"billing": 0, "technical": 0, "general": 0},
}


async def test_stats_route_is_not_taken_for_a_ticket_id(admin):
    await add_ticket()

    response = await admin.get("/admin/tickets/stats")

    assert response.status_code == 200
    assert set(response.json()) == {"by_status", "by_priority", "by_source", "by_category"}


async def test_stats_without_tickets_has_every_key_at_zero(admin):
    response = await admin.get("/admin/tickets/stats")

    assert response.status_code == 200
    assert response.json() == ZERO_STATS


async def test_stats_count_a_mix_of_tickets(admin):
    mix = [
        {"status": "open", "priority": "high", "source": "customer", "category": "billing"},
        {"status": "open", "priority": "low", "source": "external", "category": "billing"},
        {"status": "in_progress", "priority": "high", "source": "customer", "category": "technical"},
        {"status": "closed", "priority": "high", "source": "external", "category": "billing"},
        {"status": "closed", "priority": "medium", "source": "customer", "category": "billing"},
    ]
    for fields in mix:
        await add_ticket(**fields)

    response = await admin.get("/admin/tickets/stats")

    assert response.json() == {
        "by_status": {"open": 2, "in_progress": 1, "resolved": 0, "closed": 2},
        "by_priority": {"low": 1, "medium": 1, "high": 3},
        "by_source": {"customer": 3, "external": 2},
        "by_category": {"billing": 4, "technical": 1, "general": 0},
    }


async def test_stats_include_a_category_added_in_the_database(admin):
    await Category(name="hardware").save()
    await add_ticket(category="technical")

    response = await admin.get("/admin/tickets/stats")

    assert response.json()["by_category"] == {"billing": 0, "technical": 1, "general": 0, "hardware": 0}


# Query counts


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    async def during(self, request: Any) -> int:
        """How many queries the database ran while awaiting this request (which must succeed)."""
        self.count = 0
        response = await request
        assert response.status_code == 200, response.text
        return self.count


@pytest.fixture
def queries(monkeypatch) -> QueryCounter:
    """Counts every statement: all ORM queries (and raw ones) go through `run_querystring` on
    both engines; `run_ddl` is counted too, in case anything bypasses the ORM."""
    counter = QueryCounter()
    engine_class = type(Ticket._meta.db)  # the engine uses __slots__: patch its class
    for name in ("run_querystring", "run_ddl"):
        original = getattr(engine_class, name)

        async def counted(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            counter.count += 1
            return await _original(self, *args, **kwargs)

        monkeypatch.setattr(engine_class, name, counted)
    return counter


async def add_comments_and_files(ticket_id: int, n: int) -> None:
    for i in range(n):
        await Comment(ticket=ticket_id, author=ALICE, role="customer", message=f"comment {i}").save()
        await TicketAttachment(ticket=ticket_id, file=f"attachments/2026/01/01/f{ticket_id}-{i}.txt").save()


async def test_detail_costs_at_most_three_queries_whatever_its_size(admin, queries):
    bare = await add_ticket("bare")
    busy = await add_ticket("busy")
    await add_comments_and_files(busy, 10)

    bare_cost = await queries.during(admin.get(f"/admin/tickets/{bare}"))
    busy_response = await admin.get(f"/admin/tickets/{busy}")
    busy_cost = await queries.during(admin.get(f"/admin/tickets/{busy}"))

    detail = busy_response.json()
    assert (len(detail["comments"]), len(detail["attachments"])) == (10, 10)
    assert 0 < bare_cost <= 3
    assert busy_cost == bare_cost


async def test_list_page_costs_the_same_whatever_the_page_size(admin, queries):
    for i in range(25):
        await add_ticket(f"ticket {i}", category=("billing", "technical", "general")[i % 3])

    small = await queries.during(admin.get("/admin/tickets", params={"page_size": 1}))
    large = await queries.during(admin.get("/admin/tickets", params={"page_size": 20}))
    filtered = await queries.during(
        admin.get("/admin/tickets", params={"page_size": 20, "category": "billing", "q": "ticket"})
    )

    assert small > 0
    assert large == small
    assert filtered == small
