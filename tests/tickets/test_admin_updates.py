"""Admin writes: partial updates (PUT and PATCH alike), their history, and admin comments."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.conftest import AGENT, ALICE
from tickets.tables import TicketEvent

METHODS = ["PUT", "PATCH"]
TICKET_FIELDS = ("status", "priority", "category", "assigned_to", "title", "description")


async def open_ticket(customer: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    """Alice's new ticket: open, medium, general, unassigned, unless told otherwise."""
    body = {"title": "Printer jam", "description": "It jams on page 2", **fields}
    response = await customer.post("/customer/tickets", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def update(admin: httpx.AsyncClient, method: str, ticket_id: int, body: Any) -> httpx.Response:
    return await admin.request(method, f"/admin/tickets/{ticket_id}", json=body)


async def detail(admin: httpx.AsyncClient, ticket_id: int) -> dict[str, Any]:
    response = await admin.get(f"/admin/tickets/{ticket_id}")
    assert response.status_code == 200, response.text
    return response.json()


def without(ticket: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in ticket.items() if k not in keys}


def moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def update_events(ticket_id: int) -> list[dict[str, Any]]:
    return (
        await TicketEvent.select(TicketEvent.kind, TicketEvent.actor, TicketEvent.role, TicketEvent.changes)
        .where(TicketEvent.ticket == ticket_id, TicketEvent.kind == "updated")
        .order_by(TicketEvent.id)
        .output(load_json=True)
    )


# What changes and what stays


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "in_progress"),
        ("priority", "high"),
        ("category", "technical"),
        ("assigned_to", AGENT),
        ("title", "Printer on fire"),
        ("description", "Smoke everywhere"),
    ],
)
async def test_update_changes_one_field_and_keeps_the_others(admin, customer, method, field, value):
    before = await open_ticket(customer)

    response = await update(admin, method, before["id"], {field: value})

    assert response.status_code == 200, response.text
    after = response.json()
    assert after[field] == value
    assert without(after, field, "updated_at") == without(before, field, "updated_at")
    assert moment(after["updated_at"]) > moment(before["updated_at"])
    assert await detail(admin, before["id"]) == after


@pytest.mark.parametrize("method", METHODS)
async def test_assigned_to_null_unassigns(admin, customer, method):
    ticket = await open_ticket(customer)
    assigned = await update(admin, method, ticket["id"], {"assigned_to": AGENT})
    assert assigned.json()["assigned_to"] == AGENT

    response = await update(admin, method, ticket["id"], {"assigned_to": None})

    assert response.status_code == 200
    assert response.json()["assigned_to"] is None
    assert (await detail(admin, ticket["id"]))["assigned_to"] is None


@pytest.mark.parametrize("method", METHODS)
async def test_title_is_trimmed(admin, customer, method):
    ticket = await open_ticket(customer)

    response = await update(admin, method, ticket["id"], {"title": "  Paper everywhere \n"})

    assert response.status_code == 200
    assert response.json()["title"] == "Paper everywhere"


@pytest.mark.parametrize("method", METHODS)
async def test_title_of_200_characters_is_accepted(admin, customer, method):
    ticket = await open_ticket(customer)

    response = await update(admin, method, ticket["id"], {"title": "x" * 200})

    assert response.status_code == 200
    assert response.json()["title"] == "x" * 200


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "body",
    [
        {},
        {"status": "open", "priority": "medium", "category": "general"},
        {"assigned_to": None, "title": "Printer jam", "description": "It jams on page 2"},
    ],
)
async def test_body_with_nothing_different_changes_nothing(admin, customer, method, body):
    before = await open_ticket(customer)

    response = await update(admin, method, before["id"], body)

    assert response.status_code == 200
    assert response.json() == before
    assert await update_events(before["id"]) == []


# Rejected updates


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"status": "done"}, "status"),
        ({"priority": "urgent"}, "priority"),
        ({"assigned_to": "not-an-email"}, "assigned_to"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": None}, "title"),
        ({"description": None}, "description"),
        ({"category": "hardware"}, "category"),
        ({"status": "resolved", "priority": "urgent"}, "priority"),
    ],
)
async def test_invalid_value_is_400_naming_the_key_and_changes_nothing(admin, customer, method, body, key):
    ticket = await open_ticket(customer)

    response = await update(admin, method, ticket["id"], body)

    assert response.status_code == 400
    error = response.json()
    assert error["status_code"] == 400
    assert [problem["key"] for problem in error["extra"]] == [key]
    assert await detail(admin, ticket["id"]) == ticket


@pytest.mark.parametrize("method", METHODS)
async def test_unknown_fields_are_400_naming_each_of_them(admin, customer, method):
    ticket = await open_ticket(customer)

    response = await update(admin, method, ticket["id"], {"colour": "red", "owner": "x", "status": "closed"})

    assert response.status_code == 400
    error = response.json()
    assert error["status_code"] == 400
    assert "colour" in error["detail"]
    assert "owner" in error["detail"]
    assert sorted(problem["key"] for problem in error["extra"]) == ["colour", "owner"]
    assert (await detail(admin, ticket["id"]))["status"] == "open"


@pytest.mark.parametrize("method", METHODS)
async def test_unknown_category_lists_the_valid_names(admin, customer, method):
    ticket = await open_ticket(customer)

    response = await update(admin, method, ticket["id"], {"category": "hardware"})

    assert response.status_code == 400
    error = response.json()
    for name in ("billing", "technical", "general"):
        assert name in error["detail"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("body", [[{"status": "closed"}], "closed", None])
async def test_body_that_is_not_a_json_object_is_400(admin, customer, method, body):
    ticket = await open_ticket(customer)

    response = await update(admin, method, ticket["id"], body)

    assert response.status_code == 400
    assert response.json()["status_code"] == 400
    assert await detail(admin, ticket["id"]) == ticket


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ticket_id", ["999", "99999999999999999999"])
async def test_update_of_unknown_ticket_is_404(admin, customer, method, ticket_id):
    await open_ticket(customer)

    response = await admin.request(method, f"/admin/tickets/{ticket_id}", json={"status": "closed"})

    assert response.status_code == 404
    assert response.json() == {"status_code": 404, "detail": "Ticket not found"}


# History


@pytest.mark.parametrize("method", METHODS)
async def test_update_is_recorded_with_before_and_after_of_changed_fields(admin, customer, method):
    ticket = await open_ticket(customer)
    body = {"status": "in_progress", "category": "billing", "assigned_to": AGENT, "priority": "medium"}

    response = await update(admin, method, ticket["id"], body)

    assert response.status_code == 200
    assert await update_events(ticket["id"]) == [
        {
            "kind": "updated",
            "actor": AGENT,
            "role": "admin",
            "changes": {
                "status": ["open", "in_progress"],
                "category": ["general", "billing"],
                "assigned_to": [None, AGENT],
            },
        }
    ]


# Concurrency


async def test_concurrent_updates_of_different_fields_both_survive(admin, customer):
    tickets = [await open_ticket(customer, title=f"Ticket {i}") for i in range(10)]

    responses = await asyncio.gather(
        *(
            request
            for ticket in tickets
            for request in (
                update(admin, "PATCH", ticket["id"], {"priority": "high"}),
                update(admin, "PATCH", ticket["id"], {"assigned_to": AGENT}),
            )
        )
    )

    assert [r.status_code for r in responses] == [200] * 20
    for ticket in tickets:
        final = await detail(admin, ticket["id"])
        assert (final["priority"], final["assigned_to"]) == ("high", AGENT)


# Admin comments


async def test_admin_comment_is_201_with_role_admin_and_author_from_x_user(admin, customer):
    ticket = await open_ticket(customer)

    response = await admin.post(f"/admin/tickets/{ticket['id']}/comments", json={"message": "  On it.  "})

    assert response.status_code == 201
    comment = response.json()
    assert without(comment, "id", "created_at") == {
        "ticket_id": ticket["id"],
        "author": AGENT,
        "role": "admin",
        "message": "On it.",
    }
    assert isinstance(comment["id"], int)
    assert moment(comment["created_at"]).utcoffset() is not None


@pytest.mark.parametrize("message", ["", "   \n\t"])
async def test_blank_admin_comment_is_400(admin, customer, message):
    ticket = await open_ticket(customer)

    response = await admin.post(f"/admin/tickets/{ticket['id']}/comments", json={"message": message})

    assert response.status_code == 400
    assert [problem["key"] for problem in response.json()["extra"]] == ["message"]
    assert (await detail(admin, ticket["id"]))["comments"] == []


async def test_admin_comment_on_unknown_ticket_is_404(admin, customer):
    await open_ticket(customer)

    response = await admin.post("/admin/tickets/999/comments", json={"message": "Hello?"})

    assert response.status_code == 404
    assert response.json() == {"status_code": 404, "detail": "Ticket not found"}


async def test_customer_sees_the_admin_comment_in_their_ticket(admin, customer):
    ticket = await open_ticket(customer)
    await customer.post(f"/customer/tickets/{ticket['id']}/comments", json={"message": "Any news?"})
    posted = await admin.post(f"/admin/tickets/{ticket['id']}/comments", json={"message": "Fixed."})

    response = await customer.get(f"/customer/tickets/{ticket['id']}")

    assert response.status_code == 200
    comments = response.json()["comments"]
    assert [(c["author"], c["role"], c["message"]) for c in comments] == [
        (ALICE, "customer", "Any news?"),
        (AGENT, "admin", "Fixed."),
    ]
    assert comments[1] == posted.json()
