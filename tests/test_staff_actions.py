"""Agent work in the staff UI over HTTP: ticket edits recorded like the API's, the agent
forms, and what non-superusers may not do."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar
from piccolo.apps.user.tables import BaseUser

from core.staff import staff_mount
from tests.test_staff_ui import StaffUser, login, make_user, open_ticket, staff_client, ticket_row
from tickets.tables import Category, Comment, TicketEvent


@pytest.fixture
async def agent_user() -> AsyncIterator[StaffUser]:
    """A staff user who is not a superuser."""
    user = await make_user(superuser=False)
    yield user
    await BaseUser.delete().where(BaseUser.username == user.username)


@pytest.fixture
async def agent(app: Litestar, agent_user: StaffUser) -> AsyncIterator[httpx.AsyncClient]:
    async with staff_client(app) as client:
        response = await login(client, agent_user.username, agent_user.password)
        assert response.status_code in (200, 303), response.text
        yield client


@pytest.fixture
async def superuser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    user = await make_user(superuser=True)
    async with staff_client(app) as client:
        response = await login(client, user.username, user.password)
        assert response.status_code in (200, 303), response.text
        yield client
    await BaseUser.delete().where(BaseUser.username == user.username)


def email_of(user: StaffUser) -> str:
    return f"{user.username}@example.com"


async def submit(client: httpx.AsyncClient, form: str, data: dict[str, Any]) -> httpx.Response:
    return await client.post(f"/staff/api/forms/{form}/", json=data)


async def events(ticket_id: int) -> list[dict[str, Any]]:
    rows = (
        await TicketEvent.select(TicketEvent.kind, TicketEvent.actor, TicketEvent.changes)
        .where(TicketEvent.ticket == ticket_id)
        .order_by(TicketEvent.id)
    )
    return [{**row, "changes": json.loads(row["changes"])} for row in rows]


# Editing a ticket is recorded like an API update


async def test_a_staff_edit_is_recorded_in_the_history_by_the_signed_in_agent(
    agent: httpx.AsyncClient, agent_user: StaffUser, customer: httpx.AsyncClient
) -> None:
    ticket = await open_ticket(customer)
    response = await agent.patch(
        f"/staff/api/tables/ticket/{ticket['id']}/",
        json={"status": "in_progress", "priority": "high", "category": 2, "title": "VPN drops"},
    )
    assert response.status_code == 200, response.text
    row = await ticket_row(ticket["id"])
    assert (row["status"], row["priority"], row["category"]) == ("in_progress", "high", 2)
    history = await events(ticket["id"])
    assert history[-1] == {
        "kind": "updated",
        "actor": email_of(agent_user),
        "changes": {
            "status": ["open", "in_progress"],
            "priority": ["medium", "high"],
            "category": ["general", "technical"],
        },
    }


async def test_a_staff_edit_to_an_unknown_category_is_refused(
    agent: httpx.AsyncClient, customer: httpx.AsyncClient
) -> None:
    ticket = await open_ticket(customer)
    before = await ticket_row(ticket["id"])
    response = await agent.patch(f"/staff/api/tables/ticket/{ticket['id']}/", json={"category": 999})
    assert response.status_code == 422, response.text
    assert "category 999 does not exist" in response.text
    assert await ticket_row(ticket["id"]) == before


async def test_a_blank_title_is_refused(agent: httpx.AsyncClient, customer: httpx.AsyncClient) -> None:
    ticket = await open_ticket(customer)
    before = await ticket_row(ticket["id"])
    response = await agent.patch(f"/staff/api/tables/ticket/{ticket['id']}/", json={"title": "   "})
    assert response.status_code == 422, response.text
    assert await ticket_row(ticket["id"]) == before


async def test_the_history_cannot_be_edited(agent: httpx.AsyncClient, customer: httpx.AsyncClient) -> None:
    ticket = await open_ticket(customer)
    event_id = (await TicketEvent.select(TicketEvent.id).first())["id"]
    assert (
        await agent.patch(f"/staff/api/tables/ticket_event/{event_id}/", json={"actor": "x"})
    ).status_code == 405
    assert (await agent.delete(f"/staff/api/tables/ticket_event/{event_id}/")).status_code == 405
    assert len(await events(ticket["id"])) == 1


# Assign tickets


async def test_assign_tickets_assigns_each_and_records_it(
    agent: httpx.AsyncClient, agent_user: StaffUser, customer: httpx.AsyncClient
) -> None:
    first, second = await open_ticket(customer), await open_ticket(customer, title="Printer")
    response = await submit(
        agent,
        "assign-tickets",
        {"ticket_ids": f"{first['id']}, {second['id']}", "assignee": email_of(agent_user)},
    )
    assert response.status_code == 200, response.text
    assert response.json()["custom_form_success"] == (
        f"Assigned to {email_of(agent_user)}: #{first['id']}, #{second['id']}."
    )
    for ticket in (first, second):
        assert (await ticket_row(ticket["id"]))["assigned_to"] == email_of(agent_user)
        assert (await events(ticket["id"]))[-1]["changes"] == {"assigned_to": [None, email_of(agent_user)]}

    again = await submit(
        agent, "assign-tickets", {"ticket_ids": str(first["id"]), "assignee": email_of(agent_user)}
    )
    assert again.json()["custom_form_success"] == f"Nothing to change. Already theirs: #{first['id']}."


async def test_assign_tickets_lists_only_active_staff(
    agent: httpx.AsyncClient, agent_user: StaffUser
) -> None:
    inactive = await make_user(superuser=False, active=False)
    try:
        schema = (await agent.get("/staff/api/forms/assign-tickets/schema/")).json()
        label = schema["properties"]["assignee"]["title"]
        assert email_of(agent_user) in label
        assert email_of(inactive) not in label
    finally:
        await BaseUser.delete().where(BaseUser.username == inactive.username)


@pytest.mark.parametrize(
    ("ticket_ids", "assignee", "message"),
    [
        ("{id}, 99999", None, "No such ticket: #99999. Nothing was changed."),
        ("{id}, abc", None, "Not ticket numbers: abc."),
        ("", None, "Enter at least one ticket number."),
        ("{id}", "stranger@example.com", "'stranger@example.com' is not an active staff user"),
    ],
)
async def test_assign_tickets_rejects_bad_input_and_changes_nothing(
    agent: httpx.AsyncClient,
    agent_user: StaffUser,
    customer: httpx.AsyncClient,
    ticket_ids: str,
    assignee: str | None,
    message: str,
) -> None:
    ticket = await open_ticket(customer)
    data = {"ticket_ids": ticket_ids.format(id=ticket["id"]), "assignee": assignee or email_of(agent_user)}
    response = await submit(agent, "assign-tickets", data)
    assert response.status_code == 422, response.text
    assert message in response.json()["custom_form_error"]
    assert (await ticket_row(ticket["id"]))["assigned_to"] is None
    assert len(await events(ticket["id"])) == 1


# Change status


async def test_change_status_moves_several_tickets(
    agent: httpx.AsyncClient, customer: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    first, second = await open_ticket(customer), await open_ticket(customer, title="Printer")
    response = await submit(
        agent, "change-status", {"ticket_ids": f"{first['id']} {second['id']}", "status": "resolved"}
    )
    assert response.status_code == 200, response.text
    assert (
        response.json()["custom_form_success"] == f"Status set to resolved: #{first['id']}, #{second['id']}."
    )
    for ticket in (first, second):
        assert (await admin.get(f"/admin/tickets/{ticket['id']}")).json()["status"] == "resolved"


async def test_change_status_refuses_an_unknown_status(
    agent: httpx.AsyncClient, customer: httpx.AsyncClient
) -> None:
    ticket = await open_ticket(customer)
    response = await submit(agent, "change-status", {"ticket_ids": str(ticket["id"]), "status": "bogus"})
    assert response.status_code == 422, response.text
    assert "Status must be one of: open, in_progress, resolved, closed." in response.text
    assert (await ticket_row(ticket["id"]))["status"] == "open"


# Reply to customer


async def test_a_reply_is_an_admin_comment_by_the_signed_in_agent(
    agent: httpx.AsyncClient, agent_user: StaffUser, customer: httpx.AsyncClient
) -> None:
    ticket = await open_ticket(customer)
    response = await submit(agent, "reply-to-customer", {"ticket_id": ticket["id"], "message": " On it. "})
    assert response.status_code == 200, response.text
    assert (
        response.json()["custom_form_success"]
        == f"Replied on ticket #{ticket['id']} as {email_of(agent_user)}."
    )
    seen = await customer.get(f"/customer/tickets/{ticket['id']}")
    assert [(c["author"], c["role"], c["message"]) for c in seen.json()["comments"]] == [
        (email_of(agent_user), "admin", "On it.")
    ]
    assert (await events(ticket["id"]))[-1]["kind"] == "commented"


@pytest.mark.parametrize(
    ("ticket_id", "message", "error"),
    [
        (None, "   ", "may not be blank"),
        (99999, "Hello", "Ticket #99999: Ticket not found"),
        (2**40, "Hi", "not found"),
    ],
)
async def test_a_bad_reply_is_refused(
    agent: httpx.AsyncClient, customer: httpx.AsyncClient, ticket_id: int | None, message: str, error: str
) -> None:
    ticket = await open_ticket(customer)
    response = await submit(
        agent, "reply-to-customer", {"ticket_id": ticket_id or ticket["id"], "message": message}
    )
    assert response.status_code == 422, response.text
    assert error in response.json()["custom_form_error"]
    assert await Comment.count() == 0


# Permissions


async def test_a_non_superuser_cannot_read_or_change_staff_accounts(
    agent: httpx.AsyncClient, agent_user: StaffUser
) -> None:
    assert (await agent.get("/staff/api/tables/piccolo_user/")).status_code == 403
    user_id = (await BaseUser.select(BaseUser.id).where(BaseUser.username == agent_user.username).first())[
        "id"
    ]
    response = await agent.patch(f"/staff/api/tables/piccolo_user/{user_id}/", json={"superuser": True})
    assert response.status_code in (403, 405)
    assert not (await BaseUser.select(BaseUser.superuser).where(BaseUser.id == user_id).first())["superuser"]


async def test_a_superuser_manages_staff_accounts(
    superuser: httpx.AsyncClient, agent_user: StaffUser
) -> None:
    listed = await superuser.get("/staff/api/tables/piccolo_user/", params={"username": agent_user.username})
    assert listed.status_code == 200
    [row] = listed.json()["rows"]
    assert "password" not in row or row["password"] in ("", None)
    response = await superuser.patch(f"/staff/api/tables/piccolo_user/{row['id']}/", json={"active": False})
    assert response.status_code == 200, response.text
    assert not (await BaseUser.select(BaseUser.active).where(BaseUser.id == row["id"]).first())["active"]


async def test_a_non_superuser_cannot_delete_a_category(agent: httpx.AsyncClient) -> None:
    response = await agent.delete("/staff/api/tables/category/2/")
    assert response.status_code == 403, response.text
    assert "Only superusers can delete categories." in response.text
    assert await Category.exists().where(Category.id == 2)


async def test_a_non_superuser_adds_and_renames_categories(agent: httpx.AsyncClient) -> None:
    created = await agent.post("/staff/api/tables/category/", json={"name": " returns "})
    assert created.status_code == 201, created.text
    row = await Category.select().where(Category.name == "returns").first()
    assert row is not None
    renamed = await agent.patch(f"/staff/api/tables/category/{row['id']}/", json={"name": "refunds"})
    assert renamed.status_code == 200, renamed.text
    assert await Category.exists().where(Category.name == "refunds")


# Sessions


async def test_logins_are_throttled_per_client_address(app: Litestar, agent_user: StaffUser) -> None:
    async with staff_client(app) as client:
        statuses = [
            (await login(client, agent_user.username, "wrong-password")).status_code for _ in range(21)
        ]
    assert statuses[:20] == [401] * 20
    assert statuses[20] == 429
    async with staff_client(app) as elsewhere:  # another address is not affected
        assert (await login(elsewhere, agent_user.username, agent_user.password)).status_code in (200, 303)


async def test_the_session_cookie_is_http_only_and_expires(app: Litestar, agent_user: StaffUser) -> None:
    async with staff_client(app) as client:
        response = await login(client, agent_user.username, agent_user.password)
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("id="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Max-Age=604800" in cookie  # the longest a session can last: 7 days


async def test_the_session_cookie_is_secure_in_production(app: Litestar, agent_user: StaffUser) -> None:
    production = dataclasses.replace(
        app.state.settings, app_env="production", staff_allowed_hosts=("helpdesk.example.com",)
    )
    staff_only = Litestar(route_handlers=[staff_mount(production)])
    transport = httpx.ASGITransport(app=staff_only, client=("10.45.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="https://helpdesk.example.com") as client:
        await client.get("/staff/")
        client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
        client.headers["Referer"] = "https://helpdesk.example.com/staff/"
        response = await client.post(
            "/staff/public/login/", json={"username": agent_user.username, "password": agent_user.password}
        )
    assert response.status_code in (200, 303), response.text
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("id="))
    assert "Secure" in cookie


async def test_a_sign_in_from_another_site_is_refused_in_production(
    app: Litestar, agent_user: StaffUser
) -> None:
    production = dataclasses.replace(
        app.state.settings, app_env="production", staff_allowed_hosts=("helpdesk.example.com",)
    )
    transport = httpx.ASGITransport(
        app=Litestar(route_handlers=[staff_mount(production)]), client=("10.45.0.2", 1)
    )
    async with httpx.AsyncClient(transport=transport, base_url="https://helpdesk.example.com") as client:
        await client.get("/staff/")
        client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
        client.headers["Referer"] = "https://evil.example.net/"
        response = await client.post(
            "/staff/public/login/", json={"username": agent_user.username, "password": agent_user.password}
        )
    assert response.status_code == 403
    assert "id" not in response.cookies
