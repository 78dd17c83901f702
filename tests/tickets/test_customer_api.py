"""The customer endpoints: open, list, read, comment on and close one's own tickets."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import ALICE, BOB, make_client
from tickets.tables import Ticket, TicketEvent

NOT_FOUND = {"status_code": 404, "detail": "Ticket not found"}
CANNOT_CLOSE = {"status_code": 409, "detail": "Ticket can be closed by customer only when status=resolved"}
TICKET_FIELDS = {
    "id",
    "source",
    "external_ref",
    "title",
    "description",
    "priority",
    "status",
    "category",
    "customer_id",
    "assigned_to",
    "created_at",
    "updated_at",
}
DETAIL_FIELDS = TICKET_FIELDS | {"comments", "attachments"}
COMMENT_FIELDS = {"id", "ticket_id", "author", "role", "message", "created_at"}


async def open_ticket(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {"title": "Printer on fire", **fields}
    response = await client.post("/customer/tickets", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def set_status(admin: httpx.AsyncClient, ticket_id: int, status: str) -> None:
    response = await admin.put(f"/admin/tickets/{ticket_id}", json={"status": status})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == status


async def resolved_ticket(customer: httpx.AsyncClient, admin: httpx.AsyncClient) -> int:
    ticket_id = (await open_ticket(customer))["id"]
    await set_status(admin, ticket_id, "resolved")
    return ticket_id


async def file_for(partner: httpx.AsyncClient, customer_id: str, ref: str = "PARTNER-1") -> int:
    response = await partner.post(
        "/external/tickets",
        json={"external_ref": ref, "title": "Router down", "customer_id": customer_id},
    )
    assert response.status_code == 201, response.text
    return response.json()["ticket_id"]


def parse_utc(value: str) -> datetime:
    """An ISO 8601 timestamp that carries a time zone, and that zone is UTC."""
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, value
    assert parsed.utcoffset() == timedelta(0), value
    return parsed


def ids_of(response: httpx.Response) -> list[int]:
    return [ticket["id"] for ticket in response.json()["results"]]


def assert_invalid(response: httpx.Response, key: str) -> None:
    """A 400 in the contract's validation shape, naming `key` in `extra`."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status_code"] == 400
    assert isinstance(body["detail"], str) and body["detail"]
    assert key in [problem["key"] for problem in body["extra"]], body
    assert all(problem["message"] for problem in body["extra"])


async def closed_events(ticket_id: int) -> list[dict[str, Any]]:
    return await TicketEvent.select().where(TicketEvent.ticket == ticket_id, TicketEvent.kind == "closed")


# Creating a ticket


async def test_create_returns_the_full_detail_with_defaults(customer):
    response = await customer.post("/customer/tickets", json={"title": "  Printer on fire  "})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == DETAIL_FIELDS
    assert isinstance(body["id"], int)
    assert {k: v for k, v in body.items() if k not in ("id", "created_at", "updated_at")} == {
        "source": "customer",
        "external_ref": None,
        "title": "Printer on fire",
        "description": "",
        "priority": "medium",
        "status": "open",
        "category": "general",
        "customer_id": ALICE,
        "assigned_to": None,
        "comments": [],
        "attachments": [],
    }
    assert parse_utc(body["updated_at"]) >= parse_utc(body["created_at"])


async def test_create_is_stored_and_readable(customer):
    created = await open_ticket(customer, description="It smells of toner.")
    fetched = await customer.get(f"/customer/tickets/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == created
    row = await Ticket.select(Ticket.title, Ticket.customer_id).where(Ticket.id == created["id"]).first()
    assert row == {"title": "Printer on fire", "customer_id": ALICE}


@pytest.mark.parametrize("priority", ["low", "medium", "high"])
async def test_create_with_explicit_priority(customer, priority):
    assert (await open_ticket(customer, priority=priority))["priority"] == priority


@pytest.mark.parametrize("category", ["billing", "technical", "general"])
async def test_create_with_explicit_category(customer, category):
    assert (await open_ticket(customer, category=category))["category"] == category


async def test_create_with_unknown_category_lists_the_valid_names(customer):
    response = await customer.post("/customer/tickets", json={"title": "Refund", "category": "refunds"})
    assert_invalid(response, "category")
    detail = response.json()["detail"]
    for name in ("billing", "general", "technical"):
        assert name in detail
    assert await Ticket.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"description": "no title"},
        {"title": ""},
        {"title": "   "},
        {"title": "\n\t "},
        {"title": None},
        {"title": 42},
        {"title": "x" * 201},
    ],
    ids=["empty-body", "missing", "empty", "spaces", "whitespace", "null", "number", "201-chars"],
)
async def test_create_with_bad_title_is_400_naming_title(customer, body):
    response = await customer.post("/customer/tickets", json=body)
    assert_invalid(response, "title")
    assert await Ticket.count() == 0


async def test_title_of_exactly_200_characters_is_accepted(customer):
    title = "x" * 200
    assert (await open_ticket(customer, title=title))["title"] == title


@pytest.mark.parametrize("priority", ["urgent", "HIGH", "", None, 3])
async def test_create_with_invalid_priority_is_400_naming_priority(customer, priority):
    response = await customer.post("/customer/tickets", json={"title": "Refund", "priority": priority})
    assert_invalid(response, "priority")
    assert await Ticket.count() == 0


async def test_create_ignores_unknown_fields_and_fields_the_customer_does_not_own(customer):
    """As in the DRF prototype: read-only or unknown fields in the body are ignored, not errors."""
    ticket = await open_ticket(
        customer,
        customer_id=BOB,
        source="external",
        status="closed",
        assigned_to="agent@example.com",
        external_ref="HIJACK-1",
        id=999,
        colour="green",
    )
    assert ticket["customer_id"] == ALICE
    assert ticket["source"] == "customer"
    assert ticket["status"] == "open"
    assert ticket["assigned_to"] is None
    assert ticket["external_ref"] is None
    assert ticket["id"] != 999
    listed = await customer.get("/customer/tickets")
    assert ids_of(listed) == [ticket["id"]]


# Listing own tickets


async def test_list_shows_only_own_tickets_newest_first(customer, other_customer):
    first = await open_ticket(customer, title="First")
    await open_ticket(other_customer, title="Bob's")
    second = await open_ticket(customer, title="Second")
    listed = await customer.get("/customer/tickets")
    assert listed.status_code == 200
    assert listed.json()["count"] == 2
    assert ids_of(listed) == [second["id"], first["id"]]
    assert listed.json()["results"][0] == {k: v for k, v in second.items() if k in TICKET_FIELDS}
    assert [t["title"] for t in (await other_customer.get("/customer/tickets")).json()["results"]] == [
        "Bob's"
    ]


async def test_list_items_are_tickets_without_comments(customer):
    await open_ticket(customer)
    listed = await customer.get("/customer/tickets")
    assert set(listed.json()["results"][0]) == TICKET_FIELDS


async def test_ownership_ignores_letter_case(app, customer):
    ticket = await open_ticket(customer)
    async with make_client(app, {"X-ROLE": "customer", "X-USER": ALICE.upper()}) as shouting:
        listed = await shouting.get("/customer/tickets")
        detail = await shouting.get(f"/customer/tickets/{ticket['id']}")
        own = await open_ticket(shouting, title="Shouted")
    assert ids_of(listed) == [ticket["id"]]
    assert detail.status_code == 200
    assert own["customer_id"] == ALICE.upper()
    assert ids_of(await customer.get("/customer/tickets")) == [own["id"], ticket["id"]]


@pytest.mark.parametrize("filed_as", [ALICE, "Alice@Example.COM"])
async def test_partner_ticket_for_the_customer_is_theirs(customer, other_customer, partner, filed_as):
    ticket_id = await file_for(partner, filed_as)
    listed = await customer.get("/customer/tickets")
    assert ids_of(listed) == [ticket_id]
    detail = await customer.get(f"/customer/tickets/{ticket_id}")
    assert detail.status_code == 200
    assert detail.json()["source"] == "external"
    assert detail.json()["external_ref"] == "PARTNER-1"
    assert detail.json()["customer_id"] == filed_as
    assert (await other_customer.get("/customer/tickets")).json()["count"] == 0
    assert (await other_customer.get(f"/customer/tickets/{ticket_id}")).json() == NOT_FOUND


async def test_partner_ticket_without_customer_is_nobodys(customer, partner):
    response = await partner.post("/external/tickets", json={"external_ref": "P-2", "title": "Orphan"})
    assert response.status_code == 201, response.text
    assert (await customer.get("/customer/tickets")).json()["count"] == 0
    detail = await customer.get(f"/customer/tickets/{response.json()['ticket_id']}")
    assert detail.json() == NOT_FOUND


# Reading one ticket


async def test_detail_lists_comments_oldest_first(customer, admin):
    ticket_id = (await open_ticket(customer))["id"]
    for client, message in [(customer, "first"), (admin, "second"), (customer, "third")]:
        role = "admin" if client is admin else "customer"
        response = await client.post(f"/{role}/tickets/{ticket_id}/comments", json={"message": message})
        assert response.status_code == 201, response.text
    detail = await customer.get(f"/customer/tickets/{ticket_id}")
    assert detail.status_code == 200
    comments = detail.json()["comments"]
    assert [(c["message"], c["role"], c["author"]) for c in comments] == [
        ("first", "customer", ALICE),
        ("second", "admin", "agent@example.com"),
        ("third", "customer", ALICE),
    ]
    assert all(set(c) == COMMENT_FIELDS and c["ticket_id"] == ticket_id for c in comments)


async def test_detail_of_someone_elses_ticket_is_404(customer, other_customer):
    ticket_id = (await open_ticket(other_customer))["id"]
    response = await customer.get(f"/customer/tickets/{ticket_id}")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize("ticket_id", ["999999", "0", "2147483648", "99999999999999999999"])
async def test_detail_of_unknown_ticket_is_404(customer, ticket_id):
    await open_ticket(customer)
    response = await customer.get(f"/customer/tickets/{ticket_id}")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


# Comments


async def test_comment_is_201_with_the_comment(customer):
    ticket_id = (await open_ticket(customer))["id"]
    response = await customer.post(
        f"/customer/tickets/{ticket_id}/comments", json={"message": "  Any news?  \n"}
    )
    assert response.status_code == 201
    comment = response.json()
    assert set(comment) == COMMENT_FIELDS
    assert isinstance(comment["id"], int)
    assert comment["ticket_id"] == ticket_id
    assert comment["author"] == ALICE
    assert comment["role"] == "customer"
    assert comment["message"] == "Any news?"
    parse_utc(comment["created_at"])
    detail = await customer.get(f"/customer/tickets/{ticket_id}")
    assert detail.json()["comments"] == [comment]


@pytest.mark.parametrize(
    "body",
    [{"message": ""}, {"message": "   "}, {}, {"message": None}],
    ids=["empty", "blank", "missing", "null"],
)
async def test_blank_comment_is_400_naming_message(customer, body):
    ticket_id = (await open_ticket(customer))["id"]
    response = await customer.post(f"/customer/tickets/{ticket_id}/comments", json=body)
    assert_invalid(response, "message")
    assert (await customer.get(f"/customer/tickets/{ticket_id}")).json()["comments"] == []


async def test_comment_on_someone_elses_ticket_is_404(customer, other_customer):
    ticket_id = (await open_ticket(other_customer))["id"]
    response = await customer.post(f"/customer/tickets/{ticket_id}/comments", json={"message": "Mine?"})
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert (await other_customer.get(f"/customer/tickets/{ticket_id}")).json()["comments"] == []


async def test_comment_on_unknown_ticket_is_404(customer):
    response = await customer.post("/customer/tickets/424242/comments", json={"message": "Hello?"})
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


async def test_comment_bumps_the_tickets_updated_at(customer):
    ticket_id = (await open_ticket(customer))["id"]
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    # Raw SQL: an ORM update would itself refresh `updated_at` (the column auto-updates).
    await Ticket.raw("UPDATE ticket SET updated_at = {} WHERE id = {}", long_ago, ticket_id)
    before = await customer.get(f"/customer/tickets/{ticket_id}")
    assert parse_utc(before.json()["updated_at"]) == long_ago

    comment = (
        await customer.post(f"/customer/tickets/{ticket_id}/comments", json={"message": "Bump"})
    ).json()
    after = (await customer.get(f"/customer/tickets/{ticket_id}")).json()
    assert parse_utc(after["updated_at"]) >= parse_utc(comment["created_at"])
    assert after["created_at"] == before.json()["created_at"]


# Closing


@pytest.mark.parametrize("status", ["open", "in_progress"])
async def test_close_before_resolved_is_409(customer, admin, status):
    ticket_id = (await open_ticket(customer))["id"]
    if status != "open":
        await set_status(admin, ticket_id, status)
    response = await customer.post(f"/customer/tickets/{ticket_id}/close")
    assert response.status_code == 409
    assert response.json() == CANNOT_CLOSE
    assert (await customer.get(f"/customer/tickets/{ticket_id}")).json()["status"] == status
    assert await closed_events(ticket_id) == []


async def test_close_resolved_ticket_returns_closed_detail(customer, admin):
    ticket_id = await resolved_ticket(customer, admin)
    response = await customer.post(f"/customer/tickets/{ticket_id}/close")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == DETAIL_FIELDS
    assert body["id"] == ticket_id
    assert body["status"] == "closed"
    assert (await customer.get(f"/customer/tickets/{ticket_id}")).json()["status"] == "closed"


async def test_close_is_recorded_as_an_event(customer, admin):
    ticket_id = await resolved_ticket(customer, admin)
    await customer.post(f"/customer/tickets/{ticket_id}/close")
    events = await closed_events(ticket_id)
    assert len(events) == 1
    assert events[0]["actor"] == ALICE
    assert events[0]["role"] == "customer"


async def test_closing_again_is_200_and_records_nothing_more(customer, admin):
    ticket_id = await resolved_ticket(customer, admin)
    first = await customer.post(f"/customer/tickets/{ticket_id}/close")
    again = await customer.post(f"/customer/tickets/{ticket_id}/close")
    assert again.status_code == 200
    assert again.json()["status"] == "closed"
    assert again.json() == first.json()
    assert len(await closed_events(ticket_id)) == 1


async def test_closing_a_ticket_an_agent_closed_is_200(customer, admin):
    ticket_id = (await open_ticket(customer))["id"]
    await set_status(admin, ticket_id, "closed")
    response = await customer.post(f"/customer/tickets/{ticket_id}/close")
    assert response.status_code == 200
    assert response.json()["status"] == "closed"


async def test_closing_someone_elses_ticket_is_404(customer, other_customer, admin):
    ticket_id = await resolved_ticket(other_customer, admin)
    response = await customer.post(f"/customer/tickets/{ticket_id}/close")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert (await other_customer.get(f"/customer/tickets/{ticket_id}")).json()["status"] == "resolved"
    assert await closed_events(ticket_id) == []


async def test_closing_an_unknown_ticket_is_404(customer):
    response = await customer.post("/customer/tickets/424242/close")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


async def test_customer_may_close_a_partner_ticket_filed_for_them(customer, admin, partner):
    ticket_id = await file_for(partner, ALICE)
    await set_status(admin, ticket_id, "resolved")
    response = await customer.post(f"/customer/tickets/{ticket_id}/close")
    assert response.status_code == 200
    assert response.json()["status"] == "closed"


async def test_concurrent_closes_all_succeed_and_record_one_event(customer, admin):
    """Twenty clicks on "close" at once: every one sees the ticket closed, the history says so once."""
    ticket_id = await resolved_ticket(customer, admin)
    responses = await asyncio.gather(
        *(customer.post(f"/customer/tickets/{ticket_id}/close") for _ in range(20))
    )
    assert len(await closed_events(ticket_id)) == 1
    assert Counter(r.status_code for r in responses) == {200: 20}
    assert {r.json()["status"] for r in responses} == {"closed"}
