"""The OpenAPI document shows the partner features: Idempotency-Key, 200 for duplicates, 409/422/429."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize("path", ["/external/tickets", "/customer/tickets"])
async def test_create_endpoints_document_idempotency_and_limits(
    anonymous: httpx.AsyncClient, path: str
) -> None:
    schema = (await anonymous.get("/schema/openapi.json")).json()
    operation = schema["paths"][path]["post"]
    header = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
    assert header["in"] == "header"
    assert header["required"] is False
    assert {"201", "409", "422", "429"} <= set(operation["responses"])
    documented = set(operation["responses"]["201"].get("headers", {}))
    assert {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= documented


async def test_external_ingest_documents_the_duplicate_answer(anonymous: httpx.AsyncClient) -> None:
    schema = (await anonymous.get("/schema/openapi.json")).json()
    responses = schema["paths"]["/external/tickets"]["post"]["responses"]
    assert (
        responses["200"]["content"]["application/json"]["schema"]
        == responses["201"]["content"]["application/json"]["schema"]
    )
