"""The landing page, health, the OpenAPI document and CORS."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

FRONT_END = "http://localhost:3000"
HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}


@pytest.fixture
async def schema(anonymous: httpx.AsyncClient) -> dict[str, Any]:
    response = await anonymous.get("/schema/openapi.json")
    assert response.status_code == 200
    return response.json()


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow `$ref`s, and a nullable `oneOf`/`anyOf`, to the schema that says what the value is."""
    while True:
        if "$ref" in node:
            target: Any = schema
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
            continue
        options = [o for o in node.get("oneOf", node.get("anyOf", [])) if o.get("type") != "null"]
        if len(options) != 1:
            return node
        node = options[0]


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def request_body(schema: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return schema["paths"][path][method.lower()]["requestBody"]["content"]


# Home, static files, health


async def test_home_page_links_the_docs_the_staff_ui_and_health(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    links = set(re.findall(r'href="([^"]+)"', response.text))
    assert {"/schema", "/staff/", "/healthz"} <= links


async def test_the_home_stylesheet_is_served(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/static/home.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert response.text.strip()


async def test_healthz(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# The OpenAPI document


async def test_every_operation_has_a_unique_operation_id_and_a_summary(schema: dict[str, Any]) -> None:
    ops = operations(schema)
    assert len(ops) >= 12
    ids = [operation.get("operationId") for _, _, operation in ops]
    assert all(ids), [f"{m} {p}" for m, p, o in ops if not o.get("operationId")]
    assert len(ids) == len(set(ids))
    assert all(o.get("summary", "").strip() for _, _, o in ops), [
        f"{m} {p}" for m, p, o in ops if not o.get("summary")
    ]


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/customer/tickets", {"title", "description", "priority", "category"}),
        (
            "/external/tickets",
            {"external_ref", "title", "description", "priority", "category", "customer_id"},
        ),
    ],
)
async def test_ticket_creation_documents_json_and_multipart_bodies(
    schema: dict[str, Any], path: str, fields: set[str]
) -> None:
    content = request_body(schema, "POST", path)
    assert set(content) == {"application/json", "multipart/form-data"}

    as_json = resolve(schema, content["application/json"]["schema"])
    assert set(as_json["properties"]) == fields
    assert "title" in as_json["required"]

    as_form = resolve(schema, content["multipart/form-data"]["schema"])
    assert set(as_form["properties"]) == fields | {"attachments"}
    attachments = as_form["properties"]["attachments"]
    assert attachments["type"] == "array"
    assert attachments["items"] == {"type": "string", "format": "binary"}


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_ticket_update_documents_its_body(schema: dict[str, Any], method: str) -> None:
    content = request_body(schema, method, "/admin/tickets/{ticket_id}")
    body = resolve(schema, content["application/json"]["schema"])
    assert set(body["properties"]) == {
        "status",
        "priority",
        "category",
        "assigned_to",
        "title",
        "description",
    }
    assert not body.get("required")
    status = resolve(schema, body["properties"]["status"])
    assert set(status["enum"]) == {"open", "in_progress", "resolved", "closed"}


@pytest.mark.parametrize(
    ("method", "path", "status", "schema_name"),
    [
        ("POST", "/customer/tickets", "201", "TicketDetail"),
        ("GET", "/customer/tickets/{ticket_id}", "200", "TicketDetail"),
        ("POST", "/customer/tickets/{ticket_id}/comments", "201", "CommentOut"),
        ("GET", "/admin/tickets/{ticket_id}", "200", "TicketDetail"),
        ("PUT", "/admin/tickets/{ticket_id}", "200", "TicketDetail"),
        ("POST", "/admin/tickets/{ticket_id}/comments", "201", "CommentOut"),
        ("GET", "/admin/tickets/stats", "200", "TicketStats"),
        ("POST", "/external/tickets", "201", "ExternalTicketReceipt"),
    ],
)
async def test_success_responses_reference_schemas(
    schema: dict[str, Any], method: str, path: str, status: str, schema_name: str
) -> None:
    responses = schema["paths"][path][method.lower()]["responses"]
    assert status in responses
    ref = responses[status]["content"]["application/json"]["schema"]["$ref"]
    assert ref == f"#/components/schemas/{schema_name}"
    assert schema_name in schema["components"]["schemas"]


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("status", {"open", "in_progress", "resolved", "closed"}),
        ("priority", {"low", "medium", "high"}),
        ("source", {"customer", "external"}),
        ("category", None),
        ("assigned_to", None),
        ("q", None),
        ("page", None),
        ("page_size", None),
    ],
)
async def test_admin_list_documents_its_filters(
    schema: dict[str, Any], name: str, values: set[str] | None
) -> None:
    parameters = {
        p["name"]: p for p in schema["paths"]["/admin/tickets"]["get"]["parameters"] if p["in"] == "query"
    }
    assert name in parameters
    if values is not None:
        assert set(resolve(schema, parameters[name]["schema"])["enum"]) == values


# CORS


async def test_cors_preflight_from_the_front_end_is_allowed(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.options(
        "/customer/tickets",
        headers={
            "Origin": FRONT_END,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "X-ROLE",
        },
    )
    assert response.status_code in (200, 204)
    assert response.headers["access-control-allow-origin"] == FRONT_END
    allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert "x-role" in allowed


async def test_cors_preflight_from_another_origin_is_not_allowed(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.options(
        "/customer/tickets",
        headers={
            "Origin": "http://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "X-ROLE",
        },
    )
    assert response.headers.get("access-control-allow-origin") not in ("http://evil.example", "*")


async def test_a_simple_request_from_the_front_end_gets_cors_headers(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/categories", headers={"Origin": FRONT_END})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == FRONT_END
