"""The OpenAPI document declares how each caller authenticates, so the docs' Authorize button works."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.test_home_and_schema import operations

EXISTING_IDS = {
    ("POST", "/customer/tickets"): "createCustomerTicket",
    ("GET", "/customer/tickets"): "listCustomerTickets",
    ("GET", "/admin/tickets"): "listAdminTickets",
    ("GET", "/admin/tickets/stats"): "getTicketStats",
    ("GET", "/admin/tickets/{ticket_id}"): "getAdminTicket",
    ("PUT", "/admin/tickets/{ticket_id}"): "updateTicket",
    ("PATCH", "/admin/tickets/{ticket_id}"): "patchTicket",
    ("POST", "/admin/tickets/{ticket_id}/comments"): "commentOnAdminTicket",
    ("POST", "/external/tickets"): "ingestExternalTicket",
}


@pytest.fixture
async def schema(anonymous: httpx.AsyncClient) -> dict[str, Any]:
    response = await anonymous.get("/schema/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_security_schemes_are_declared(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schemes["bearerAuth"]["description"],
    }
    assert (schemes["partnerApiKey"]["type"], schemes["partnerApiKey"]["in"]) == ("apiKey", "header")
    assert schemes["partnerApiKey"]["name"] == "X-API-KEY"
    assert (schemes["staffSession"]["in"], schemes["staffSession"]["name"]) == ("cookie", "id")


def test_each_operation_names_its_credentials(schema):
    by_key = {(m, p): o for m, p, o in operations(schema)}
    for (method, path), operation in by_key.items():
        security = operation.get("security")
        if path.startswith("/customer/"):
            assert security == [{"bearerAuth": []}], (method, path)
        elif path.startswith("/admin/"):
            assert security == [{"bearerAuth": []}, {"staffSession": []}], (method, path)
        elif path.startswith("/external/"):
            assert security == [{"partnerApiKey": []}], (method, path)
        elif path.startswith("/auth/"):
            assert security == [{}], (method, path)
        else:
            assert not security, (method, path)
    assert "401" in by_key[("GET", "/admin/tickets")]["responses"]
    assert "429" in by_key[("POST", "/auth/token")]["responses"]


def test_the_existing_operation_ids_are_kept(schema):
    by_key = {(m, p): o["operationId"] for m, p, o in operations(schema)}
    for key, operation_id in EXISTING_IDS.items():
        assert by_key[key] == operation_id, key
    assert by_key[("POST", "/auth/token")] == "issueStaffToken"
