"""The staff UI's session cookie opens the admin JSON API in token mode; writes need the CSRF echo."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar
from piccolo.apps.user.tables import BaseUser

from tests.auth.conftest import StaffUser
from tests.conftest import ALICE

CSRF_FAILED = {
    "status_code": 403,
    "detail": "CSRF check failed. Send the csrftoken cookie's value in X-CSRFToken",
}
_ADDRESSES = itertools.count(1)


def browser(app: Litestar) -> httpx.AsyncClient:
    """Its own client address, so the staff UI's login rate limit is never shared between tests."""
    n = next(_ADDRESSES)
    transport = httpx.ASGITransport(app=app, client=(f"10.55.{n // 250}.{n % 250 + 1}", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def staff_browser(token_app: Litestar, staff_user: StaffUser) -> AsyncIterator[httpx.AsyncClient]:
    async with browser(token_app) as client:
        assert (await client.get("/staff/")).status_code == 200
        csrf = client.cookies["csrftoken"]
        login = await client.post(
            "/staff/public/login/",
            json={"username": staff_user.username, "password": staff_user.password},
            headers={"X-CSRFToken": csrf},
        )
        assert login.status_code in (200, 303), login.text
        assert client.cookies.get("id")
        yield client


@pytest.fixture
async def ticket(customer: httpx.AsyncClient) -> dict:
    response = await customer.post("/customer/tickets", json={"title": "Printer on fire"})
    assert response.status_code == 201
    return response.json()


async def test_the_session_reads_the_admin_api(staff_browser, ticket):
    listed = await staff_browser.get("/admin/tickets")
    assert listed.status_code == 200, listed.text
    assert [t["id"] for t in listed.json()["results"]] == [ticket["id"]]
    assert (await staff_browser.get("/admin/tickets/stats")).status_code == 200


async def test_a_write_with_the_csrf_echo_is_made_as_the_staff_user(staff_browser, staff_user, ticket):
    csrf = staff_browser.cookies["csrftoken"]
    response = await staff_browser.patch(
        f"/admin/tickets/{ticket['id']}", json={"status": "in_progress"}, headers={"X-CSRFToken": csrf}
    )
    assert response.status_code == 200, response.text
    comment = await staff_browser.post(
        f"/admin/tickets/{ticket['id']}/comments", json={"message": "On it"}, headers={"X-CSRFToken": csrf}
    )
    assert comment.status_code == 201
    assert comment.json()["author"] == staff_user.email


@pytest.mark.parametrize("csrf", [None, "", "wrong-token"])
async def test_a_write_without_the_csrf_echo_is_403_and_changes_nothing(staff_browser, ticket, admin, csrf):
    headers = {} if csrf is None else {"X-CSRFToken": csrf}
    response = await staff_browser.put(
        f"/admin/tickets/{ticket['id']}", json={"status": "closed"}, headers=headers
    )
    assert response.status_code == 403
    assert response.json() == CSRF_FAILED
    comment = await staff_browser.post(
        f"/admin/tickets/{ticket['id']}/comments", json={"message": "x"}, headers=headers
    )
    assert comment.status_code == 403
    detail = (await admin.get(f"/admin/tickets/{ticket['id']}")).json()
    assert (detail["status"], detail["comments"]) == ("open", [])


async def test_the_session_is_no_customer(staff_browser):
    response = await staff_browser.get("/customer/tickets")
    assert response.status_code == 403
    assert response.json()["detail"] == "Requires role=customer"


async def test_a_deactivated_users_session_opens_nothing(staff_browser, staff_user):
    await BaseUser.update({BaseUser.active: False}).where(BaseUser.id == staff_user.id)
    assert (await staff_browser.get("/admin/tickets")).status_code == 401


async def test_a_forged_session_cookie_opens_nothing(token_app):
    async with browser(token_app) as client:
        client.cookies.set("id", "made-up-session")
        response = await client.get("/admin/tickets")
    assert response.status_code == 401


async def test_a_bearer_token_wins_over_the_session(staff_browser, token_app):
    from core.identity import Caller, Role
    from core.identity.tokens import issue_access_token

    token = issue_access_token(token_app.state.settings, Caller(Role.customer, ALICE), 60)
    response = await staff_browser.get("/admin/tickets", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403


async def test_staff_read_the_development_outbox_in_the_staff_ui(staff_browser, token_anonymous):
    await token_anonymous.post("/auth/customer/magic-link", json={"email": ALICE})
    tables = await staff_browser.get("/staff/api/tables/")
    assert {"outbox_mail", "refresh_token"} <= set(tables.json())
    rows = (await staff_browser.get("/staff/api/tables/outbox_mail/")).json()["rows"]
    assert [row["recipient"] for row in rows] == [ALICE]
    assert "sign-in code:" in rows[0]["body"]
