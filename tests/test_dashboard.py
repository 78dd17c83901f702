"""The staff dashboard: only for signed-in staff, and its numbers are the stats endpoint's."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from litestar import Litestar
from piccolo.apps.user.tables import BaseUser

from dashboard.queries import created_per_day
from tests.test_staff_actions import make_user
from tests.test_staff_ui import login, open_ticket, staff_client
from tickets.tables import Ticket


def stat(html: str, key: str) -> int:
    match = re.search(rf'data-stat="{re.escape(key)}">(\d+)<', html)
    assert match, f"{key} not on the page"
    return int(match.group(1))


async def test_anonymous_visitors_are_sent_to_the_login_page(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/staff-dashboard/")
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/#/login"
    assert "data-stat" not in response.text


async def test_a_forged_session_cookie_is_not_enough(anonymous: httpx.AsyncClient) -> None:
    anonymous.cookies.set("id", "not-a-session")
    response = await anonymous.get("/staff-dashboard/")
    assert response.status_code == 303


async def test_a_deactivated_user_loses_the_dashboard(app: Litestar) -> None:
    user = await make_user(superuser=False)
    try:
        async with staff_client(app) as client:
            assert (await login(client, user.username, user.password)).status_code in (200, 303)
            assert (await client.get("/staff-dashboard/")).status_code == 200
            await BaseUser.update({BaseUser.active: False}).where(BaseUser.username == user.username)
            assert (await client.get("/staff-dashboard/")).status_code == 303
    finally:
        await BaseUser.delete().where(BaseUser.username == user.username)


async def test_the_numbers_match_the_stats_endpoint(
    app: Litestar, customer: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    first = await open_ticket(customer, priority="high", category="billing")
    await open_ticket(customer, priority="high")
    third = await open_ticket(customer, priority="low", category="technical")
    await admin.put(f"/admin/tickets/{third['id']}", json={"status": "resolved"})
    await admin.put(f"/admin/tickets/{first['id']}", json={"assigned_to": "agent@example.com"})

    user = await make_user(superuser=False)
    try:
        async with staff_client(app) as client:
            await login(client, user.username, user.password)
            response = await client.get("/staff-dashboard/")
    finally:
        await BaseUser.delete().where(BaseUser.username == user.username)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    html = response.text
    stats = (await admin.get("/admin/tickets/stats")).json()
    for group in ("by_status", "by_category"):
        for name, count in stats[group].items():
            assert stat(html, f"{group}.{name}") == count
    assert stat(html, "total") == 3
    assert {p: stat(html, f"open_by_priority.{p}") for p in ("low", "medium", "high")} == {
        "low": 0,
        "medium": 0,
        "high": 2,
    }
    unassigned = re.findall(r'<a href="/staff/#/ticket/(\d+)/">', html)
    assert unassigned == [str(first["id"] + 1)]
    assert "<script" not in html and "http://" not in html and "https://" not in html


async def test_created_per_day_counts_the_last_thirty_days(customer: httpx.AsyncClient) -> None:
    today = datetime.now(UTC).date()
    old, recent, _ = [await open_ticket(customer) for _ in range(3)]
    await Ticket.update({Ticket.created_at: datetime.now(UTC) - timedelta(days=30)}).where(
        Ticket.id == old["id"]
    )
    await Ticket.update({Ticket.created_at: datetime.now(UTC) - timedelta(days=2)}).where(
        Ticket.id == recent["id"]
    )
    days = await created_per_day(today)
    assert len(days) == 30
    assert days[0][0] == today - timedelta(days=29) and days[-1][0] == today
    counts = dict(days)
    assert counts[today - timedelta(days=2)] == 1
    assert sum(counts.values()) == 2  # the 30-day-old ticket is outside the window
