"""Pagination of the ticket lists: the prototype's page body, its URLs and its "Invalid page." rule."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from tests.conftest import AGENT, ALICE, make_client
from tickets.tables import Ticket

INVALID_PAGE = {"status_code": 404, "detail": "Invalid page."}
PAGE_KEYS = {"count", "next", "previous", "page", "page_size", "results"}
SEEDED_FROM = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Lister:
    """A client and the list endpoint it may read; alice's tickets show on both."""

    client: httpx.AsyncClient
    path: str

    @property
    def url(self) -> str:
        return f"http://testserver{self.path}"

    async def get(self, **params: str | int) -> httpx.Response:
        return await self.client.get(self.path, params=params)


@pytest.fixture(params=["customer", "admin"])
async def lister(request, app) -> AsyncIterator[Lister]:
    if request.param == "customer":
        headers, path = {"X-ROLE": "customer", "X-USER": ALICE}, "/customer/tickets"
    else:
        headers, path = {"X-ROLE": "admin", "X-USER": AGENT}, "/admin/tickets"
    async with make_client(app, headers) as client:
        yield Lister(client, path)


async def open_tickets(client: httpx.AsyncClient, count: int) -> list[int]:
    """Open `count` tickets through the API, oldest first; returns their ids in that order."""
    ids = []
    for number in range(count):
        response = await client.post("/customer/tickets", json={"title": f"Ticket {number}"})
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


async def seed_tickets(count: int, title: str = "Ticket") -> list[int]:
    """Alice's tickets written straight to the table, a minute apart, oldest first; their ids."""
    rows = await Ticket.insert(
        *(
            Ticket(
                title=f"{title} {n}",
                category=3,
                customer_id=ALICE,
                created_at=SEEDED_FROM + timedelta(minutes=n),
                updated_at=SEEDED_FROM + timedelta(minutes=n),
            )
            for n in range(count)
        )
    )
    return [row["id"] for row in rows]


def split_url(url: str) -> tuple[str, dict[str, str]]:
    """An absolute URL as (scheme://host/path, query parameters)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}", dict(parse_qsl(parts.query))


def ids_of(response: httpx.Response) -> list[int]:
    return [ticket["id"] for ticket in response.json()["results"]]


async def walk(client: httpx.AsyncClient, first: httpx.Response, limit: int = 30) -> list[httpx.Response]:
    """Every page, following `next` from the first (at most `limit`, so a link loop fails)."""
    pages = [first]
    while pages[-1].json()["next"] is not None:
        assert len(pages) < limit, "next never ends"
        response = await client.get(pages[-1].json()["next"])
        assert response.status_code == 200, response.text
        pages.append(response)
    return pages


# The body


async def test_body_has_count_links_page_and_results(lister):
    ids = await seed_tickets(3)
    response = await lister.get()
    assert response.status_code == 200
    body = response.json()
    assert set(body) == PAGE_KEYS
    assert body["count"] == 3
    assert body["next"] is None
    assert body["previous"] is None
    assert body["page"] == 1
    assert body["page_size"] == 20
    assert [t["id"] for t in body["results"]] == ids[::-1]


async def test_empty_list_page_one_is_200_with_no_results(lister):
    expected = {"count": 0, "next": None, "previous": None, "page": 1, "page_size": 20, "results": []}
    assert (await lister.get()).json() == expected
    explicit = await lister.get(page=1)
    assert explicit.status_code == 200
    assert explicit.json() == expected


# Page size


async def test_default_page_size_is_20(lister):
    ids = await seed_tickets(25)
    body = (await lister.get()).json()
    assert body["count"] == 25
    assert body["page_size"] == 20
    assert [t["id"] for t in body["results"]] == ids[::-1][:20]


async def test_page_size_parameter_sets_the_size(lister):
    ids = await seed_tickets(25)
    body = (await lister.get(page_size=7)).json()
    assert body["count"] == 25
    assert body["page_size"] == 7
    assert [t["id"] for t in body["results"]] == ids[::-1][:7]


async def test_page_size_over_100_is_capped_at_100(lister):
    await seed_tickets(105)
    first = await lister.get(page_size=150)
    body = first.json()
    assert body["page_size"] == 100
    assert len(body["results"]) == 100
    assert split_url(body["next"]) == (lister.url, {"page_size": "150", "page": "2"})
    last = await lister.client.get(body["next"])
    assert last.json()["page_size"] == 100
    assert len(last.json()["results"]) == 5
    assert last.json()["next"] is None


@pytest.mark.parametrize("page_size", ["0", "-5", "abc", "", "2.5"])
async def test_bad_page_size_falls_back_to_default(lister, page_size):
    await seed_tickets(25)
    response = await lister.get(page_size=page_size)
    assert response.status_code == 200
    assert response.json()["page_size"] == 20
    assert len(response.json()["results"]) == 20


# Pages and their links


async def test_page_two_holds_the_rest(lister):
    ids = await seed_tickets(25)
    first = (await lister.get()).json()
    assert split_url(first["next"]) == (lister.url, {"page": "2"})
    second = await lister.get(page=2)
    assert second.status_code == 200
    body = second.json()
    assert body["page"] == 2
    assert body["count"] == 25
    assert body["next"] is None
    assert [t["id"] for t in body["results"]] == ids[::-1][20:]


async def test_previous_of_page_two_has_no_page_parameter(lister):
    await seed_tickets(25)
    body = (await lister.get(page=2)).json()
    assert body["previous"] == lister.url
    followed = await lister.client.get(body["previous"])
    assert followed.json() == (await lister.get()).json()


async def test_links_keep_the_other_query_parameters(lister):
    await seed_tickets(25)
    body = (await lister.get(page_size=5, page=3)).json()
    assert split_url(body["next"]) == (lister.url, {"page_size": "5", "page": "4"})
    assert split_url(body["previous"]) == (lister.url, {"page_size": "5", "page": "2"})
    previous_of_two = (await lister.get(page_size=5, page=2)).json()["previous"]
    assert split_url(previous_of_two) == (lister.url, {"page_size": "5"})


async def test_following_next_visits_every_ticket_once_newest_first(lister):
    ids = await seed_tickets(25)
    pages = await walk(lister.client, await lister.get(page_size=7))
    assert [p.json()["page"] for p in pages] == [1, 2, 3, 4]
    assert [len(p.json()["results"]) for p in pages] == [7, 7, 7, 4]
    assert [i for p in pages for i in ids_of(p)] == ids[::-1]


async def test_following_previous_walks_back(lister):
    await seed_tickets(25)
    forward = await walk(lister.client, await lister.get(page_size=10))
    back = await lister.client.get(forward[-1].json()["previous"])
    assert back.json() == forward[1].json()
    back = await lister.client.get(back.json()["previous"])
    assert back.json() == forward[0].json()


async def test_admin_links_keep_filters_and_search(admin):
    printers = await seed_tickets(12, title="Printer jam")
    await seed_tickets(5, title="Login fails")
    await Ticket.update({Ticket.status: "resolved"}).where(Ticket.id.is_in(printers[:3]))
    open_printers = printers[3:][::-1]

    first = await admin.get("/admin/tickets", params={"status": "open", "q": "PRINTER", "page_size": 4})
    assert first.json()["count"] == 9
    filters = {"status": "open", "q": "PRINTER", "page_size": "4"}
    assert split_url(first.json()["next"]) == ("http://testserver/admin/tickets", {**filters, "page": "2"})

    pages = await walk(admin, first)
    assert [i for p in pages for i in ids_of(p)] == open_printers
    assert all(t["status"] == "open" for p in pages for t in p.json()["results"])
    assert split_url(pages[1].json()["previous"]) == ("http://testserver/admin/tickets", filters)
    assert split_url(pages[2].json()["previous"]) == (
        "http://testserver/admin/tickets",
        {**filters, "page": "2"},
    )
    back = await admin.get(pages[1].json()["previous"])
    assert back.json() == first.json()


async def test_customer_pages_count_only_own_tickets(customer, admin):
    ids = await seed_tickets(25)
    await Ticket.update({Ticket.customer_id: "bob@example.com"}).where(Ticket.id.is_in(ids[:10]))
    first = await customer.get("/customer/tickets", params={"page_size": 10})
    assert first.json()["count"] == 15
    pages = await walk(customer, first)
    assert [i for p in pages for i in ids_of(p)] == ids[10:][::-1]
    assert (await admin.get("/admin/tickets")).json()["count"] == 25


async def test_links_keep_identity_query_parameters(anonymous):
    """A client identified by ?role=&user= can follow the links as they are."""
    ids = await seed_tickets(25)
    identity = {"role": "customer", "user": ALICE}
    first = await anonymous.get("/customer/tickets", params={**identity, "page_size": 10})
    assert first.status_code == 200, first.text
    pages = await walk(anonymous, first)
    assert len(pages) == 3
    assert [i for p in pages for i in ids_of(p)] == ids[::-1]
    assert split_url(pages[2].json()["previous"])[1] == {**identity, "page_size": "10", "page": "2"}


# Invalid pages


@pytest.mark.parametrize("page", ["3", "99", "0", "-1", "abc", "1.5", ""])
async def test_invalid_page_is_404(lister, page):
    await seed_tickets(25)
    response = await lister.get(page=page)
    assert response.status_code == 404
    assert response.json() == INVALID_PAGE


@pytest.mark.parametrize("page", ["2", "0", "-1", "abc"])
async def test_invalid_page_of_an_empty_list_is_404(lister, page):
    response = await lister.get(page=page)
    assert response.status_code == 404
    assert response.json() == INVALID_PAGE


async def test_page_past_the_end_with_a_custom_size_is_404(lister):
    await seed_tickets(10)
    assert (await lister.get(page_size=5, page=2)).status_code == 200
    response = await lister.get(page_size=5, page=3)
    assert response.status_code == 404
    assert response.json() == INVALID_PAGE


# Ordering


async def test_order_is_created_at_newest_first_not_id(lister):
    ids = await seed_tickets(5)
    await Ticket.update({Ticket.created_at: SEEDED_FROM + timedelta(days=1)}).where(Ticket.id == ids[0])
    await Ticket.update({Ticket.created_at: SEEDED_FROM - timedelta(days=1)}).where(Ticket.id == ids[4])
    response = await lister.get()
    assert ids_of(response) == [ids[0], ids[3], ids[2], ids[1], ids[4]]


async def test_equal_created_at_is_ordered_by_id_across_pages(lister):
    """With every timestamp equal, id breaks the tie: pages neither repeat nor skip a ticket."""
    ids = await seed_tickets(25)
    same = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    await Ticket.update({Ticket.created_at: same}, force=True)
    pages = await walk(lister.client, await lister.get(page_size=6))
    assert [i for p in pages for i in ids_of(p)] == sorted(ids, reverse=True)


async def test_tickets_opened_through_the_api_list_newest_first(lister, customer):
    ids = await open_tickets(customer, 22)
    pages = await walk(lister.client, await lister.get())
    assert [len(p.json()["results"]) for p in pages] == [20, 2]
    assert [i for p in pages for i in ids_of(p)] == ids[::-1]


async def test_links_keep_the_query_in_the_order_it_was_sent(admin):
    """The same request always gets the same links (they once followed a set's hash order)."""
    await seed_tickets(3, title="Order")
    response = await admin.get("/admin/tickets?status=open&q=order&page_size=1&source=customer")
    assert response.json()["next"] == (
        "http://testserver/admin/tickets?status=open&q=order&page_size=1&source=customer&page=2"
    )
