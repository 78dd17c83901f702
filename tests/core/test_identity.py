"""Identity: who is calling, from X-ROLE/X-USER headers or ?role=&user= query parameters."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import AGENT, ALICE, BOB, make_client

MISSING_ROLE = {"status_code": 400, "detail": "Missing/invalid role. Use X-ROLE: customer|admin"}
MISSING_USER = {"status_code": 400, "detail": "Missing user. Use X-USER: <email>"}
INVALID_USER = {"status_code": 400, "detail": "Invalid user. X-USER must be an e-mail address"}
REQUIRES_ADMIN = {"status_code": 403, "detail": "Requires role=admin"}
REQUIRES_CUSTOMER = {"status_code": 403, "detail": "Requires role=customer"}
SEEDED_CATEGORIES = [
    {"id": 1, "name": "billing"},
    {"id": 2, "name": "technical"},
    {"id": 3, "name": "general"},
]

# One request per kind of identity-protected endpoint; identity is checked before the body.
PROTECTED = [
    ("GET", "/customer/tickets"),
    ("POST", "/customer/tickets"),
    ("POST", "/customer/tickets/1/close"),
    ("GET", "/admin/tickets"),
    ("PUT", "/admin/tickets/1"),
]


async def call_as(app, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    async with make_client(app, headers) as client:
        return await client.request(method, path, json={"title": "Printer on fire"})


async def created_by(client: httpx.AsyncClient) -> httpx.Response:
    """Open a ticket; the response tells whose ticket it became."""
    return await client.post("/customer/tickets", json={"title": "Printer on fire"})


# Headers


@pytest.mark.parametrize(
    "headers",
    [
        {"X-ROLE": "customer", "X-USER": ALICE},
        {"x-role": "customer", "x-user": ALICE},
        {"X-Role": "customer", "X-User": ALICE},
    ],
    ids=["upper", "lower", "mixed"],
)
async def test_header_names_are_case_insensitive(app, headers):
    async with make_client(app, headers) as client:
        response = await created_by(client)
    assert response.status_code == 201, response.text
    assert response.json()["customer_id"] == ALICE


@pytest.mark.parametrize("role", [" Customer ", "CUSTOMER", "\tcustomer\t"])
async def test_role_is_trimmed_and_lower_cased(app, role):
    async with make_client(app, {"X-ROLE": role, "X-USER": ALICE}) as client:
        response = await created_by(client)
    assert response.status_code == 201, response.text


async def test_admin_role_is_trimmed_and_lower_cased(app):
    async with make_client(app, {"X-ROLE": "  Admin ", "X-USER": AGENT}) as client:
        response = await client.get("/admin/tickets")
    assert response.status_code == 200, response.text


async def test_user_is_trimmed(app):
    async with make_client(app, {"X-ROLE": "customer", "X-USER": f"  {ALICE}  "}) as client:
        response = await created_by(client)
    assert response.status_code == 201, response.text
    assert response.json()["customer_id"] == ALICE


# Query parameters


async def test_query_parameters_identify_when_headers_are_absent(anonymous):
    response = await anonymous.post(
        "/customer/tickets", params={"role": "customer", "user": ALICE}, json={"title": "Printer on fire"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["customer_id"] == ALICE


async def test_query_parameters_identify_an_admin(anonymous):
    response = await anonymous.get("/admin/tickets", params={"role": "admin", "user": AGENT})
    assert response.status_code == 200, response.text


async def test_query_role_is_trimmed_and_lower_cased(anonymous):
    response = await anonymous.get("/customer/tickets", params={"role": " Customer ", "user": f" {ALICE} "})
    assert response.status_code == 200, response.text


async def test_header_role_wins_over_query_role(app):
    async with make_client(app, {"X-ROLE": "customer", "X-USER": ALICE}) as client:
        as_customer = await client.get("/customer/tickets", params={"role": "admin"})
        as_admin = await client.get("/admin/tickets", params={"role": "admin"})
    assert as_customer.status_code == 200, as_customer.text
    assert as_admin.status_code == 403
    assert as_admin.json() == REQUIRES_ADMIN


async def test_header_user_wins_over_query_user(app):
    async with make_client(app, {"X-ROLE": "customer", "X-USER": BOB}) as client:
        response = await client.post(
            "/customer/tickets", params={"role": "customer", "user": ALICE}, json={"title": "Printer on fire"}
        )
    assert response.status_code == 201, response.text
    assert response.json()["customer_id"] == BOB


# Bad identity: 400 with a message that says what to send


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, MISSING_ROLE),
        ({"X-USER": ALICE}, MISSING_ROLE),
        ({"X-ROLE": "superuser", "X-USER": ALICE}, MISSING_ROLE),
        ({"X-ROLE": "", "X-USER": ALICE}, MISSING_ROLE),
        ({"X-ROLE": "customer"}, MISSING_USER),
        ({"X-ROLE": "admin"}, MISSING_USER),
        ({"X-ROLE": "customer", "X-USER": ""}, MISSING_USER),
        ({"X-ROLE": "customer", "X-USER": "   "}, MISSING_USER),
        ({"X-ROLE": "customer", "X-USER": "alice"}, INVALID_USER),
        ({"X-ROLE": "admin", "X-USER": "agent@localhost"}, INVALID_USER),
        ({"X-ROLE": "customer", "X-USER": "alice smith@example.com"}, INVALID_USER),
    ],
    ids=[
        "nothing",
        "no-role",
        "unknown-role",
        "empty-role",
        "customer-no-user",
        "admin-no-user",
        "empty-user",
        "blank-user",
        "not-an-email",
        "no-domain-dot",
        "space-in-email",
    ],
)
async def test_bad_identity_is_400_saying_what_to_send(app, method, path, headers, expected):
    response = await call_as(app, method, path, headers)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == expected


async def test_bad_query_identity_is_400(anonymous):
    response = await anonymous.get("/customer/tickets", params={"role": "root", "user": ALICE})
    assert response.status_code == 400
    assert response.json() == MISSING_ROLE
    response = await anonymous.get("/customer/tickets", params={"role": "customer", "user": "nobody"})
    assert response.status_code == 400
    assert response.json() == INVALID_USER


# Right identity, wrong role: 403


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/tickets"),
        ("GET", "/admin/tickets/stats"),
        ("GET", "/admin/tickets/1"),
        ("PUT", "/admin/tickets/1"),
        ("PATCH", "/admin/tickets/1"),
        ("POST", "/admin/tickets/1/comments"),
    ],
)
async def test_customer_on_admin_endpoint_is_403(customer, method, path):
    response = await customer.request(method, path, json={"message": "hi"})
    assert response.status_code == 403
    assert response.json() == REQUIRES_ADMIN


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/customer/tickets"),
        ("POST", "/customer/tickets"),
        ("GET", "/customer/tickets/1"),
        ("POST", "/customer/tickets/1/comments"),
        ("POST", "/customer/tickets/1/close"),
    ],
)
async def test_admin_on_customer_endpoint_is_403(admin, method, path):
    response = await admin.request(method, path, json={"title": "Printer on fire", "message": "hi"})
    assert response.status_code == 403
    assert response.json() == REQUIRES_CUSTOMER


async def test_wrong_role_creates_nothing(admin):
    """A 403 on create must not have opened a ticket on the way."""
    await admin.post("/customer/tickets", json={"title": "Printer on fire"})
    listed = await admin.get("/admin/tickets")
    assert listed.json()["count"] == 0


# Public


async def test_categories_need_no_identity(anonymous):
    response = await anonymous.get("/categories")
    assert response.status_code == 200
    assert response.json() == SEEDED_CATEGORIES


async def test_categories_ignore_a_bad_identity(app):
    async with make_client(app, {"X-ROLE": "superuser", "X-USER": "nobody"}) as client:
        response = await client.get("/categories")
    assert response.status_code == 200
    assert response.json() == SEEDED_CATEGORIES
