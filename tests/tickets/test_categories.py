"""Categories: the public list, idempotent seeding, and the rules around renaming and deleting."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from starlette.exceptions import HTTPException

from tickets.admin import refuse_used_category
from tickets.seed import seed_categories
from tickets.tables import Category

SEEDED = [{"id": 1, "name": "billing"}, {"id": 2, "name": "technical"}, {"id": 3, "name": "general"}]


async def open_ticket(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post("/customer/tickets", json={"title": "Card declined", **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def add_category(name: str) -> int:
    category = Category(name=name)
    await category.save()
    return category.id


async def category_rows() -> list[dict[str, Any]]:
    return await Category.select(Category.id, Category.name).order_by(Category.id)


# The public list


async def test_categories_are_a_plain_list_in_id_order_without_identity(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/categories")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == SEEDED


async def test_the_list_is_in_id_order_not_name_order(anonymous: httpx.AsyncClient) -> None:
    await add_category("accounts")
    response = await anonymous.get("/categories")
    assert [c["name"] for c in response.json()] == ["billing", "technical", "general", "accounts"]


# Seeding


async def test_seeding_again_adds_nothing() -> None:
    await seed_categories()
    await seed_categories()
    assert await category_rows() == SEEDED


async def test_seeding_concurrently_never_duplicates() -> None:
    """Several processes starting at once all seed; the unique name decides."""
    await asyncio.gather(*(seed_categories() for _ in range(10)))
    assert await category_rows() == SEEDED


async def test_seeding_keeps_added_and_renamed_categories() -> None:
    extra_id = await add_category("accounts")
    await seed_categories()
    rows = await category_rows()
    assert rows == [*SEEDED, {"id": extra_id, "name": "accounts"}]


# Added and renamed categories


async def test_a_category_added_in_the_database_is_listed_and_usable(
    anonymous: httpx.AsyncClient, customer: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    new_id = await add_category("hardware")
    listed = await anonymous.get("/categories")
    assert listed.json() == [*SEEDED, {"id": new_id, "name": "hardware"}]

    ticket = await open_ticket(customer, category="hardware")
    assert ticket["category"] == "hardware"
    detail = await admin.get(f"/admin/tickets/{ticket['id']}")
    assert detail.json()["category"] == "hardware"


async def test_renaming_a_category_shows_on_existing_tickets(
    customer: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    ticket = await open_ticket(customer, category="billing")
    await Category.update({Category.name: "payments"}).where(Category.id == 1)

    detail = await admin.get(f"/admin/tickets/{ticket['id']}")
    assert detail.json()["category"] == "payments"
    listed = await admin.get("/admin/tickets")
    assert [t["category"] for t in listed.json()["results"]] == ["payments"]
    own = await customer.get(f"/customer/tickets/{ticket['id']}")
    assert own.json()["category"] == "payments"


async def test_the_old_name_of_a_renamed_category_is_unknown(customer: httpx.AsyncClient) -> None:
    await Category.update({Category.name: "payments"}).where(Category.id == 1)
    response = await customer.post("/customer/tickets", json={"title": "Refund", "category": "billing"})
    assert response.status_code == 400
    assert "payments" in response.json()["detail"]


# Deleting


async def test_the_staff_rule_refuses_deleting_a_used_category(customer: httpx.AsyncClient) -> None:
    await open_ticket(customer, category="technical")
    with pytest.raises(HTTPException) as refused:
        await refuse_used_category(2)
    assert refused.value.status_code == 409
    assert "'technical'" in refused.value.detail
    assert await category_rows() == SEEDED


async def test_the_staff_rule_allows_deleting_an_unused_category(customer: httpx.AsyncClient) -> None:
    await open_ticket(customer, category="technical")
    await refuse_used_category(1)  # billing has no tickets: no exception
    await Category.delete().where(Category.id == 1)
    assert await category_rows() == SEEDED[1:]


async def test_the_database_refuses_deleting_a_used_category(customer: httpx.AsyncClient) -> None:
    """ON DELETE RESTRICT: a category with tickets cannot go, whoever deletes it."""
    ticket = await open_ticket(customer, category="billing")
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        await Category.delete().where(Category.id == 1)
    assert await category_rows() == SEEDED
    detail = await customer.get(f"/customer/tickets/{ticket['id']}")
    assert detail.json()["category"] == "billing"
