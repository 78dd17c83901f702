"""An agent's shift in the staff UI, in a real browser: sign in, triage the queue, work a
ticket, use the agent forms, manage categories, read the dashboard; and what a
non-superuser may not do. Results are checked through the JSON API."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import httpx
from playwright.async_api import Page, expect

from tests.browser.conftest import StaffAccount, sign_in, snap

ROW_TIMEOUT = 15_000


async def open_ticket(customer_api: httpx.AsyncClient, title: str, **fields: Any) -> dict[str, Any]:
    response = await customer_api.post("/customer/tickets", json={"title": title, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def ticket(api: httpx.AsyncClient, ticket_id: int) -> dict[str, Any]:
    response = await api.get(f"/admin/tickets/{ticket_id}")
    assert response.status_code == 200, response.text
    return response.json()


DATA_ROW = "tbody tr:has(input[type=checkbox][value])"  # a listed row, not the CSV dialog's table


async def settled(page: Page) -> None:
    """Let the SPA finish loading before typing: it redraws forms when their data arrives.

    `networkidle` covers a page's first load; after a hash-route change the short pause
    lets the route's requests start and finish.
    """
    await page.wait_for_load_state("networkidle")
    await page.wait_for_timeout(300)


def queue_rows(page: Page):
    return page.locator(DATA_ROW)


async def test_signing_in_shows_the_helpdesk(
    anonymous_page: Page, live_server: str, agent: StaffAccount
) -> None:
    page = anonymous_page
    await page.goto(f"{live_server}/staff/")
    await expect(page.locator("input[name=username]")).to_be_visible()
    await expect(page).to_have_title("Helpdesk staff")
    await snap(page, "01-login")
    await page.fill("input[name=username]", agent.username)
    await page.fill("input[name=password]", "wrong-password")
    await page.click("[data-uitest=login_button]")
    await expect(page.locator("input[name=username]")).to_be_visible()
    assert not any(c["name"] == "id" for c in await page.context.cookies())

    await sign_in(page, live_server, agent)
    await expect(page.get_by_text("Helpdesk staff").first).to_be_visible()
    await snap(page, "02-home")


async def test_filter_the_queue_by_status(
    agent_page: Page, live_server: str, customer_api: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    page = agent_page
    first = await open_ticket(customer_api, "Cannot log in", priority="high")
    second = await open_ticket(customer_api, "Invoice is wrong", category="billing")
    third = await open_ticket(customer_api, "Printer jams")
    await api.put(f"/admin/tickets/{second['id']}", json={"status": "resolved"})

    await page.goto(f"{live_server}/staff/#/ticket/")
    await expect(queue_rows(page)).to_have_count(3, timeout=ROW_TIMEOUT)
    # Newest first.
    ids = [int(t) for t in await page.locator(f"{DATA_ROW} td:nth-child(2)").all_inner_texts()]
    assert ids == [third["id"], second["id"], first["id"]]
    await snap(page, "03-queue")

    await settled(page)
    await page.click("[data-uitest=filter_button]")
    await page.select_option("select[name=status]", "resolved")
    await page.click("[data-uitest=submit_filter_button]")
    await expect(queue_rows(page)).to_have_count(1, timeout=ROW_TIMEOUT)
    await expect(queue_rows(page).first).to_contain_text("Invoice is wrong")
    await expect(queue_rows(page).first).to_contain_text("Resolved")
    await snap(page, "04-queue-filtered-resolved")


async def test_work_a_ticket_change_status_and_assignee(
    agent_page: Page,
    live_server: str,
    customer_api: httpx.AsyncClient,
    api: httpx.AsyncClient,
    agent: StaffAccount,
) -> None:
    page = agent_page
    opened = await open_ticket(customer_api, "VPN drops every hour", description="Since Monday.")
    await customer_api.post(
        f"/customer/tickets/{opened['id']}/comments", json={"message": "Still happening."}
    )

    await page.goto(f"{live_server}/staff/#/ticket/")
    await page.locator(f"{DATA_ROW} td:nth-child(2) a").first.click()
    await expect(page.locator("select[name=status]")).to_be_visible(timeout=ROW_TIMEOUT)
    await expect(page.locator("input[name=title]")).to_have_value("VPN drops every hour")
    await settled(page)
    await page.select_option("select[name=status]", "in_progress")
    await page.fill("input[name=assigned_to]", agent.email)
    await snap(page, "05-ticket-edit")
    await page.get_by_role("button", name=re.compile("save", re.I)).click()
    await expect(page.get_by_text(re.compile("Successfully saved", re.I)).first).to_be_visible(
        timeout=ROW_TIMEOUT
    )
    await snap(page, "06-ticket-saved")

    saved = await ticket(api, opened["id"])
    assert (saved["status"], saved["assigned_to"]) == ("in_progress", agent.email)
    assert saved["updated_at"] > opened["updated_at"]

    # Its comments, from the ticket's referencing tables.
    await page.get_by_text("Show referencing tables").click()
    await page.get_by_role("link", name=re.compile("comment", re.I)).first.click()
    await expect(queue_rows(page)).to_have_count(1, timeout=ROW_TIMEOUT)
    await expect(queue_rows(page).first).to_contain_text("Still happening.")
    await snap(page, "07-ticket-comments")


async def test_an_invalid_assignee_is_refused_in_the_ui(
    agent_page: Page, live_server: str, customer_api: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    page = agent_page
    opened = await open_ticket(customer_api, "Mail bounces")
    await page.goto(f"{live_server}/staff/#/ticket/{opened['id']}/")
    await expect(page.locator("input[name=assigned_to]")).to_be_visible(timeout=ROW_TIMEOUT)
    await settled(page)
    await page.fill("input[name=assigned_to]", "not-an-email")
    await page.get_by_role("button", name=re.compile("save", re.I)).click()
    message = page.get_by_text("assigned_to field - must be an e-mail address")
    await expect(message.first).to_be_visible(timeout=ROW_TIMEOUT)
    await snap(page, "08-ticket-invalid-assignee")
    assert (await ticket(api, opened["id"]))["assigned_to"] is None


async def submit_form(page: Page, server: str, slug: str, fields: dict[str, str]) -> None:
    await page.goto(f"{server}/staff/#/")  # a fresh form, not the last one's result
    await page.goto(f"{server}/staff/#/forms/{slug}/")
    await settled(page)
    for name, value in fields.items():
        await page.locator(f"[name={name}]").fill(value)
    await page.click("[data-uitest=submit_custom_form_button]")


async def test_the_agent_forms(
    agent_page: Page,
    live_server: str,
    customer_api: httpx.AsyncClient,
    api: httpx.AsyncClient,
    agent: StaffAccount,
) -> None:
    page = agent_page
    first = await open_ticket(customer_api, "Password reset mail missing")
    second = await open_ticket(customer_api, "Wrong VAT on invoice", category="billing")
    numbers = f"{first['id']}, {second['id']}"

    await page.goto(f"{live_server}/staff/#/forms/assign-tickets/")
    await expect(page.get_by_text(agent.email).first).to_be_visible(timeout=ROW_TIMEOUT)
    await snap(page, "09-form-assign")
    await submit_form(page, live_server, "assign-tickets", {"ticket_ids": numbers, "assignee": agent.email})
    success = page.locator("#success_message")
    await expect(success).to_have_text(f"Assigned to {agent.email}: #{first['id']}, #{second['id']}.")
    await snap(page, "10-form-assign-done")

    await submit_form(page, live_server, "assign-tickets", {"ticket_ids": "99999", "assignee": agent.email})
    await expect(page.get_by_text("No such ticket: #99999. Nothing was changed.")).to_be_visible()
    await snap(page, "11-form-assign-error")

    await submit_form(page, live_server, "change-status", {"ticket_ids": numbers, "status": "resolved"})
    await expect(success).to_have_text(f"Status set to resolved: #{first['id']}, #{second['id']}.")
    await snap(page, "12-form-status-done")

    await submit_form(
        page, live_server, "reply-to-customer", {"ticket_id": str(first["id"]), "message": "Sent a new link."}
    )
    await expect(success).to_have_text(f"Replied on ticket #{first['id']} as {agent.email}.")
    await snap(page, "13-form-reply-done")

    for opened in (first, second):
        saved = await ticket(api, opened["id"])
        assert (saved["status"], saved["assigned_to"]) == ("resolved", agent.email)
    replies = (await ticket(api, first["id"]))["comments"]
    assert [(c["author"], c["role"], c["message"]) for c in replies] == [
        (agent.email, "admin", "Sent a new link.")
    ]


async def test_add_rename_and_delete_a_category(
    lead_page: Page, live_server: str, api: httpx.AsyncClient
) -> None:
    page = lead_page

    async def category_names() -> list[str]:
        return [c["name"] for c in (await api.get("/categories")).json()]

    async def until(check: Callable[[list[str]], bool]) -> list[str]:
        for _ in range(60):
            names = await category_names()
            if check(names):
                return names
            await asyncio.sleep(0.25)
        raise AssertionError(f"categories are {names}")

    await page.goto(f"{live_server}/staff/#/category/add/")
    await settled(page)  # the SPA redraws the form when the new row's defaults arrive
    await page.locator("input[name=name]").fill("returns")
    await expect(page.locator("input[name=name]")).to_have_value("returns")
    await page.get_by_role("button", name=re.compile("create|save", re.I)).click()
    await until(lambda names: "returns" in names)
    await snap(page, "14-category-added")

    category_id = next(c["id"] for c in (await api.get("/categories")).json() if c["name"] == "returns")
    await page.goto(f"{live_server}/staff/#/category/{category_id}/")
    await expect(page.locator("input[name=name]")).to_have_value("returns", timeout=ROW_TIMEOUT)
    await settled(page)
    await page.locator("input[name=name]").fill("refunds")
    await page.get_by_role("button", name=re.compile("save", re.I)).click()
    await until(lambda names: "refunds" in names and "returns" not in names)
    await snap(page, "15-category-renamed")

    page.on("dialog", lambda dialog: dialog.accept())
    await page.goto(f"{live_server}/staff/#/category/")
    row = page.locator(DATA_ROW, has_text="refunds")
    await expect(row).to_have_count(1, timeout=ROW_TIMEOUT)
    await snap(page, "16-categories")
    await row.locator(
        ".dropdown_menu, [data-uitest=dropdown_button], a:has(svg.fa-ellipsis-vertical)"
    ).first.click()
    await page.get_by_text(re.compile("^\\s*Delete\\s*$")).first.click()
    await until(lambda names: "refunds" not in names)
    await expect(page.locator(DATA_ROW, has_text="refunds")).to_have_count(0, timeout=ROW_TIMEOUT)
    await expect(queue_rows(page)).to_have_count(3, timeout=ROW_TIMEOUT)
    await snap(page, "17-category-deleted")


async def test_the_dashboard_matches_the_stats(
    agent_page: Page, live_server: str, customer_api: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    page = agent_page
    await open_ticket(customer_api, "Site is down", priority="high", category="technical")
    await open_ticket(customer_api, "Refund please", category="billing")
    done = await open_ticket(customer_api, "How do I export?", priority="low")
    await api.put(f"/admin/tickets/{done['id']}", json={"status": "closed"})

    await page.goto(f"{live_server}/staff/#/")
    await page.get_by_role("link", name="Dashboard").click()
    await expect(page).to_have_url(f"{live_server}/staff-dashboard/", timeout=ROW_TIMEOUT)
    await expect(page.locator("h1")).to_contain_text("Dashboard")
    await snap(page, "18-dashboard")

    stats = (await api.get("/admin/tickets/stats")).json()
    for group in ("by_status", "by_category"):
        for name, count in stats[group].items():
            shown = await page.locator(f'[data-stat="{group}.{name}"]').text_content()
            assert int(shown) == count, (group, name)
    assert int(await page.locator('[data-stat="total"]').text_content()) == sum(stats["by_status"].values())
    high = await page.locator('[data-stat="open_by_priority.high"]').text_content()
    assert int(high) == 1
    await expect(page.locator("#oldest-unassigned tbody tr")).to_have_count(2)


async def test_anonymous_visitors_get_the_login_page_not_the_dashboard(
    anonymous_page: Page, live_server: str
) -> None:
    page = anonymous_page
    await page.goto(f"{live_server}/staff-dashboard/")
    await expect(page.locator("input[name=username]")).to_be_visible(timeout=ROW_TIMEOUT)
    assert "/staff/#/login" in page.url
    assert await page.locator("[data-stat]").count() == 0
    await snap(page, "19-dashboard-anonymous")


async def test_a_non_superuser_is_refused_user_management(
    agent_page: Page, live_server: str, lead: StaffAccount
) -> None:
    page = agent_page
    async with page.expect_response(
        lambda r: "/api/tables/piccolo_user/" in r.url and r.request.method == "GET"
    ) as info:
        await page.goto(f"{live_server}/staff/#/piccolo_user/")
    assert (await info.value).status == 403
    await page.wait_for_timeout(500)
    await expect(page.get_by_text(lead.username)).to_have_count(0)
    await snap(page, "20-users-refused")


async def test_a_superuser_sees_staff_accounts(
    lead_page: Page, live_server: str, agent: StaffAccount
) -> None:
    page = lead_page
    await page.goto(f"{live_server}/staff/#/piccolo_user/")
    await expect(page.locator(DATA_ROW, has_text=agent.username)).to_have_count(1, timeout=ROW_TIMEOUT)
    await snap(page, "21-users")


async def test_an_attachment_downloads_from_the_ticket(
    agent_page: Page, live_server: str, customer_api: httpx.AsyncClient
) -> None:
    page = agent_page
    response = await customer_api.post(
        "/customer/tickets",
        data={"title": "Screenshot of the error"},
        files={"attachments": ("error.log", b"Traceback: boom\n", "text/plain")},
    )
    assert response.status_code == 201, response.text
    opened = response.json()

    await page.goto(f"{live_server}/staff/#/ticket/{opened['id']}/")
    await page.get_by_text("Show referencing tables").click()
    await page.get_by_role("link", name=re.compile("attachment", re.I)).first.click()
    row = page.locator(DATA_ROW, has_text="error.log")
    await expect(row).to_have_count(1, timeout=ROW_TIMEOUT)
    await snap(page, "22-ticket-attachments")
    await row.locator("a", has_text="attachments/").first.click()
    await page.wait_for_timeout(1500)
    await snap(page, "23-attachment-viewer")
    async with page.expect_download() as download_info:
        await page.locator("#media_viewer").get_by_text(re.compile("download", re.I)).last.click()
    download = await download_info.value
    assert download.suggested_filename == "error.log"
    assert (await download.path()).read_bytes() == b"Traceback: boom\n"
