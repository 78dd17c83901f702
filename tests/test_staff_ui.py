"""The staff UI (Piccolo Admin under /staff/): login, browsing, edits that obey the API's rules.

The user table is not reset between tests: every test creates its own uniquely named
user and deletes it afterwards. Each staff client also has its own client address, so the
admin's login rate limit (per address, for the whole session) is never reached.
"""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from litestar import Litestar
from piccolo.apps.user.tables import BaseUser

from core.staff import FIRST_STAFF_USERNAME, ensure_first_staff_user
from tickets.tables import Category, Ticket

PASSWORD = "correct-horse-battery"
_ADDRESSES = itertools.count(1)


@dataclasses.dataclass(frozen=True)
class StaffUser:
    username: str
    password: str


def staff_client(app: Litestar) -> httpx.AsyncClient:
    n = next(_ADDRESSES)
    transport = httpx.ASGITransport(app=app, client=(f"10.44.{n // 250}.{n % 250 + 1}", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    """As the SPA does: any GET sets the csrftoken cookie; writes send it back as a header."""
    page = await client.get("/staff/")
    assert page.status_code == 200
    client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
    return await client.post("/staff/public/login/", json={"username": username, "password": password})


async def ticket_row(ticket_id: int) -> dict[str, Any]:
    row = await Ticket.select().where(Ticket.id == ticket_id).first()
    assert row is not None
    return row


async def open_ticket(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post("/customer/tickets", json={"title": "VPN drops", **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def make_user(superuser: bool, active: bool = True) -> StaffUser:
    """A staff user with a unique name (the user table is not reset between tests)."""
    username = f"agent-{uuid.uuid4().hex[:12]}"
    await BaseUser.create_user(
        username=username,
        password=PASSWORD,
        email=f"{username}@example.com",
        active=active,
        admin=True,
        superuser=superuser,
    )
    return StaffUser(username, PASSWORD)


@pytest.fixture
async def staff_user() -> AsyncIterator[StaffUser]:
    user = await make_user(superuser=True)
    yield user
    await BaseUser.delete().where(BaseUser.username == user.username)


@pytest.fixture
async def staff(app: Litestar, staff_user: StaffUser) -> AsyncIterator[httpx.AsyncClient]:
    async with staff_client(app) as client:
        response = await login(client, staff_user.username, staff_user.password)
        assert response.status_code in (200, 303), response.text
        yield client


@pytest.fixture
async def no_users() -> AsyncIterator[None]:
    """An empty user table for the test; the users found are put back afterwards, unchanged."""
    saved = await BaseUser.select().order_by(BaseUser.id)
    await BaseUser.delete(force=True)
    try:
        yield
    finally:
        await BaseUser.delete(force=True)
        if saved:
            await BaseUser.insert(*(BaseUser(**row) for row in saved))
        assert await BaseUser.select().order_by(BaseUser.id) == saved


# Serving the UI


async def test_staff_without_slash_redirects_permanently(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/staff")
    assert response.status_code == 308
    assert response.headers["location"] == "/staff/"


async def test_staff_serves_the_admin_page(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/staff/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "csrftoken" in response.cookies


# Login


async def test_login_sets_a_session_cookie(app: Litestar, staff_user: StaffUser) -> None:
    async with staff_client(app) as client:
        response = await login(client, staff_user.username, staff_user.password)
        assert response.status_code in (200, 303), response.text
        assert client.cookies.get("id")


async def test_a_wrong_password_is_refused(app: Litestar, staff_user: StaffUser) -> None:
    async with staff_client(app) as client:
        response = await login(client, staff_user.username, "not-the-password")
        assert response.status_code == 401, response.text
        assert client.cookies.get("id") is None
        tables = await client.get("/staff/api/tables/")
        assert tables.status_code in (401, 403)


async def test_anonymous_callers_cannot_read_the_api(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/staff/api/tables/ticket/")
    assert response.status_code in (401, 403)


# Browsing


async def test_the_helpdesk_tables_are_listed(staff: httpx.AsyncClient) -> None:
    response = await staff.get("/staff/api/tables/")
    assert response.status_code == 200
    assert set(response.json()) >= {"ticket", "comment", "ticket_attachment", "category", "ticket_event"}


async def test_ticket_rows_are_listed(staff: httpx.AsyncClient, customer: httpx.AsyncClient) -> None:
    ticket = await open_ticket(customer, category="technical")
    response = await staff.get("/staff/api/tables/ticket/")
    assert response.status_code == 200
    rows = response.json()["rows"]
    assert [(r["id"], r["title"], r["status"], r["category"]) for r in rows] == [
        (ticket["id"], "VPN drops", "open", 2)
    ]


# Editing tickets


async def test_an_invalid_status_is_refused_and_nothing_changes(
    staff: httpx.AsyncClient, customer: httpx.AsyncClient
) -> None:
    ticket = await open_ticket(customer)
    before = await ticket_row(ticket["id"])
    response = await staff.patch(f"/staff/api/tables/ticket/{ticket['id']}/", json={"status": "bogus"})
    assert response.status_code == 422, response.text
    assert "status" in response.text
    assert await ticket_row(ticket["id"]) == before


async def test_a_valid_status_is_saved_and_moves_updated_at(
    staff: httpx.AsyncClient, customer: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    ticket = await open_ticket(customer)
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    await Ticket.update({Ticket.updated_at: long_ago}).where(Ticket.id == ticket["id"])

    response = await staff.patch(f"/staff/api/tables/ticket/{ticket['id']}/", json={"status": "resolved"})
    assert response.status_code == 200, response.text

    row = await ticket_row(ticket["id"])
    assert row["status"] == "resolved"
    assert row["updated_at"] > long_ago
    detail = await admin.get(f"/admin/tickets/{ticket['id']}")
    assert detail.json()["status"] == "resolved"


async def test_an_assignee_that_is_not_an_email_is_refused(
    staff: httpx.AsyncClient, customer: httpx.AsyncClient
) -> None:
    ticket = await open_ticket(customer)
    before = await ticket_row(ticket["id"])
    response = await staff.patch(
        f"/staff/api/tables/ticket/{ticket['id']}/", json={"assigned_to": "not-an-email"}
    )
    assert response.status_code == 422, response.text
    assert await ticket_row(ticket["id"]) == before


async def test_an_email_assignee_is_saved(staff: httpx.AsyncClient, customer: httpx.AsyncClient) -> None:
    ticket = await open_ticket(customer)
    response = await staff.patch(
        f"/staff/api/tables/ticket/{ticket['id']}/", json={"assigned_to": "agent@example.com"}
    )
    assert response.status_code == 200, response.text
    assert (await ticket_row(ticket["id"]))["assigned_to"] == "agent@example.com"


# Deleting categories


async def test_deleting_a_used_category_is_refused(
    staff: httpx.AsyncClient, customer: httpx.AsyncClient
) -> None:
    await open_ticket(customer, category="billing")
    response = await staff.delete("/staff/api/tables/category/1/")
    assert response.status_code == 409, response.text
    assert "billing" in response.json()["detail"]
    assert await Category.exists().where(Category.id == 1)


async def test_deleting_an_unused_category_works(
    staff: httpx.AsyncClient, customer: httpx.AsyncClient
) -> None:
    await open_ticket(customer, category="billing")
    response = await staff.delete("/staff/api/tables/category/2/")
    assert response.status_code in (200, 204), response.text
    assert not await Category.exists().where(Category.id == 2)
    assert await Category.count() == 2


# The first staff user


async def test_the_first_staff_user_is_created_once_and_can_log_in(app: Litestar, no_users: None) -> None:
    settings = app.state.settings
    password = await ensure_first_staff_user(settings)
    assert password
    users = await BaseUser.select(BaseUser.username, BaseUser.active, BaseUser.admin, BaseUser.superuser)
    assert users == [{"username": FIRST_STAFF_USERNAME, "active": True, "admin": True, "superuser": True}]

    async with staff_client(app) as client:
        response = await login(client, FIRST_STAFF_USERNAME, password)
        assert response.status_code in (200, 303), response.text
        assert (await client.get("/staff/api/tables/")).status_code == 200

    assert await ensure_first_staff_user(settings) is None
    assert await BaseUser.count() == 1


async def test_no_first_staff_user_in_production(app: Litestar, no_users: None) -> None:
    production = dataclasses.replace(app.state.settings, app_env="production")
    assert await ensure_first_staff_user(production) is None
    assert await BaseUser.count() == 0


async def test_no_first_staff_user_when_one_exists(app: Litestar, staff_user: StaffUser) -> None:
    before = await BaseUser.select(BaseUser.username).order_by(BaseUser.id)
    assert await ensure_first_staff_user(app.state.settings) is None
    assert await BaseUser.select(BaseUser.username).order_by(BaseUser.id) == before
