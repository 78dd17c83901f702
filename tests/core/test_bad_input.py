"""Bad input on every writing endpoint: a 4xx JSON error, never a 500 or HTML, and nothing stored.

Each error body has the contract's shape `{"status_code": <the HTTP status>, "detail": "..."}`;
after each refusal the database is exactly as it was before the request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tickets.tables import Comment, Ticket, TicketAttachment, TicketEvent

JSON = "application/json"
BOUNDARY = "helpdesk-test-boundary"


@dataclass(frozen=True)
class Endpoint:
    client: str  # the conftest fixture that calls it
    method: str
    path: str  # `{id}` is an existing ticket of alice's
    valid: dict[str, Any]  # a body the endpoint accepts
    text_field: str  # the required text field
    takes_forms: bool  # multipart/form-data is one of its media types


ENDPOINTS = {
    "customer-create": Endpoint(
        "customer", "POST", "/customer/tickets", {"title": "Printer on fire"}, "title", True
    ),
    "customer-comment": Endpoint(
        "customer", "POST", "/customer/tickets/{id}/comments", {"message": "Any news?"}, "message", True
    ),
    "admin-comment": Endpoint(
        "admin", "POST", "/admin/tickets/{id}/comments", {"message": "Looking into it"}, "message", True
    ),
    "admin-update": Endpoint(
        "admin", "PUT", "/admin/tickets/{id}", {"status": "in_progress"}, "title", False
    ),
    "external-create": Endpoint(
        "partner", "POST", "/external/tickets", {"external_ref": "P-1", "title": "Sync failed"}, "title", True
    ),
}
WITH_TITLE = ["customer-create", "admin-update", "external-create"]

WRONG_TYPES = [
    *((name, field, value) for name in WITH_TITLE for field, value in [("title", 123), ("priority", 5)]),
    *((name, "description", []) for name in WITH_TITLE),
    *((name, "message", value) for name in ["customer-comment", "admin-comment"] for value in [{}, 123]),
]


async def database_state() -> dict[str, Any]:
    """Everything a refused request could have written."""
    return {
        "tickets": await Ticket.select().order_by(Ticket.id),
        "comments": await Comment.count(),
        "attachments": await TicketAttachment.count(),
        "events": await TicketEvent.count(),
    }


def assert_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(JSON)
    body = response.json()
    assert body["status_code"] == status
    assert isinstance(body["detail"], str)
    assert body["detail"].strip()
    return body


def assert_field_error(response: httpx.Response, field: str) -> None:
    body = assert_error(response, 400)
    assert field in [problem["key"] for problem in body["extra"]], body


def multipart(fields: dict[str, bytes]) -> tuple[bytes, str]:
    """A multipart/form-data body built by hand, so field values can be any bytes."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
        for name, value in fields.items()
    ]
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode(), f"multipart/form-data; boundary={BOUNDARY}"


class Target:
    """One endpoint, called on an existing ticket, that checks it was left untouched."""

    def __init__(self, endpoint: Endpoint, client: httpx.AsyncClient, ticket_id: int) -> None:
        self.endpoint = endpoint
        self.client = client
        self.url = endpoint.path.format(id=ticket_id)
        self.before: dict[str, Any] = {}

    async def send(self, content: bytes, content_type: str) -> httpx.Response:
        self.before = await database_state()
        return await self.client.request(
            self.endpoint.method, self.url, content=content, headers={"Content-Type": content_type}
        )

    async def send_json(self, payload: Any) -> httpx.Response:
        self.before = await database_state()
        return await self.client.request(self.endpoint.method, self.url, json=payload)

    async def assert_nothing_stored(self) -> None:
        assert await database_state() == self.before

    @property
    def form_status(self) -> int:
        """A broken form is a 400 where forms are taken, else an unsupported media type."""
        return 400 if self.endpoint.takes_forms else 415


async def open_ticket(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post("/customer/tickets", json={"title": "Existing ticket", **fields})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def clients(
    customer: httpx.AsyncClient, admin: httpx.AsyncClient, partner: httpx.AsyncClient
) -> dict[str, httpx.AsyncClient]:
    return {"customer": customer, "admin": admin, "partner": partner}


async def make_target(clients: dict[str, httpx.AsyncClient], name: str) -> Target:
    endpoint = ENDPOINTS[name]
    ticket = await open_ticket(clients["customer"])
    return Target(endpoint, clients[endpoint.client], ticket["id"])


@pytest.fixture(params=list(ENDPOINTS))
async def target(request: pytest.FixtureRequest, clients: dict[str, httpx.AsyncClient]) -> Target:
    return await make_target(clients, request.param)


@pytest.fixture(params=WITH_TITLE)
async def titled_target(request: pytest.FixtureRequest, clients: dict[str, httpx.AsyncClient]) -> Target:
    return await make_target(clients, request.param)


async def test_the_valid_body_is_accepted(target: Target) -> None:
    """The refusals below are caused by the bad input, not by the setup."""
    response = await target.send_json(target.endpoint.valid)
    assert response.status_code in (200, 201), response.text


# Bodies that are not a JSON object


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b'{"title": "unterminated', id="malformed"),
        pytest.param(b"{'title': 'single quotes'}", id="not-json"),
        pytest.param(b'[{"title": "in an array"}]', id="array"),
        pytest.param(b'"just a string"', id="string"),
        pytest.param(b"42", id="number"),
        pytest.param(b"null", id="null"),
        pytest.param(b"", id="empty"),
        pytest.param(b"   ", id="blank"),
    ],
)
async def test_a_body_that_is_not_a_json_object_is_400(target: Target, content: bytes) -> None:
    response = await target.send(content, JSON)
    assert_error(response, 400)
    await target.assert_nothing_stored()


async def test_deeply_nested_json_is_4xx(target: Target) -> None:
    response = await target.send(b"[" * 10_000 + b"]" * 10_000, JSON)
    assert 400 <= response.status_code < 500, response.text
    assert_error(response, response.status_code)
    await target.assert_nothing_stored()


async def test_non_utf8_bytes_in_a_json_body_are_400(target: Target) -> None:
    response = await target.send(b'{"title": "\xff\xfe"}', JSON)
    assert_error(response, 400)
    await target.assert_nothing_stored()


# Wrong types and values


@pytest.mark.parametrize(("name", "field", "value"), WRONG_TYPES)
async def test_a_wrong_type_is_400_naming_the_field(
    clients: dict[str, httpx.AsyncClient], name: str, field: str, value: Any
) -> None:
    wrong = await make_target(clients, name)
    response = await wrong.send_json({**wrong.endpoint.valid, field: value})
    assert_field_error(response, field)
    await wrong.assert_nothing_stored()


async def test_a_100000_character_title_is_400(titled_target: Target) -> None:
    response = await titled_target.send_json({**titled_target.endpoint.valid, "title": "x" * 100_000})
    assert_field_error(response, "title")
    await titled_target.assert_nothing_stored()


async def test_a_nul_character_in_text_is_400_not_500(target: Target) -> None:
    """PostgreSQL cannot store NUL in text; the API refuses it on both databases alike."""
    field = target.endpoint.text_field
    response = await target.send_json({**target.endpoint.valid, field: "a\u0000b"})
    assert_field_error(response, field)
    await target.assert_nothing_stored()


# Media types and multipart


async def test_text_plain_is_415(target: Target) -> None:
    """Even when the text happens to be a valid JSON object."""
    response = await target.send(json.dumps(target.endpoint.valid).encode(), "text/plain")
    assert_error(response, 415)
    await target.assert_nothing_stored()


async def test_non_utf8_bytes_in_a_multipart_text_field_are_refused(target: Target) -> None:
    fields = {key: str(value).encode() for key, value in target.endpoint.valid.items()}
    fields[target.endpoint.text_field] = b"\xff\xfe"
    response = await target.send(*multipart(fields))
    assert_error(response, target.form_status)
    await target.assert_nothing_stored()


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param(f"multipart/form-data; boundary={BOUNDARY}-other", id="wrong-boundary"),
        pytest.param("multipart/form-data", id="no-boundary"),
    ],
)
async def test_a_multipart_body_with_a_broken_boundary_is_refused(target: Target, content_type: str) -> None:
    content, _ = multipart({key: str(value).encode() for key, value in target.endpoint.valid.items()})
    response = await target.send(content, content_type)
    assert_error(response, target.form_status)
    await target.assert_nothing_stored()


# Absurd ids


@pytest.mark.parametrize(
    ("client_name", "method", "path"),
    [
        ("customer", "GET", "/customer/tickets/99999999999999999999"),
        ("customer", "POST", "/customer/tickets/99999999999999999999/comments"),
        ("admin", "GET", "/admin/tickets/99999999999999999999"),
        ("admin", "GET", "/admin/tickets/-1"),
        ("admin", "GET", "/admin/tickets/0"),
        ("admin", "PUT", "/admin/tickets/99999999999999999999"),
        ("admin", "PUT", "/admin/tickets/-1"),
        ("admin", "POST", "/admin/tickets/99999999999999999999/comments"),
        ("admin", "POST", "/admin/tickets/0/comments"),
    ],
)
async def test_an_absurd_ticket_id_is_404(
    clients: dict[str, httpx.AsyncClient], client_name: str, method: str, path: str
) -> None:
    await open_ticket(clients["customer"])
    before = await database_state()
    body = {"message": "hello"} if path.endswith("/comments") else {"status": "closed"}
    response = await clients[client_name].request(method, path, json=body if method != "GET" else None)
    assert response.status_code == 404, response.text
    assert response.json() == {"status_code": 404, "detail": "Ticket not found"}
    assert await database_state() == before


@pytest.mark.parametrize("method", ["GET", "PUT"])
async def test_a_non_numeric_ticket_id_is_4xx_json(admin: httpx.AsyncClient, method: str) -> None:
    response = await admin.request(
        method, "/admin/tickets/abc", json={"status": "closed"} if method == "PUT" else None
    )
    assert 400 <= response.status_code < 500
    assert_error(response, response.status_code)


# Routing errors


async def test_an_unknown_path_is_404_json(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/no/such/path")
    assert_error(response, 404)


async def test_a_wrong_method_is_405_json_with_allow(customer: httpx.AsyncClient) -> None:
    before = await database_state()
    response = await customer.delete("/customer/tickets")
    assert_error(response, 405)
    allowed = {method.strip() for method in response.headers["allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    assert "DELETE" not in allowed
    assert await database_state() == before
