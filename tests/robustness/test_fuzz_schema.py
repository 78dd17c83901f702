"""Schema fuzzing: schemathesis generates requests from the app's own /schema/openapi.json.

Every operation is tried as a customer, as an agent and as a partner, with data
that fits the schema and data that does not. No answer may be a 5xx, use an
undocumented status code, or break its documented response schema.

The run is bounded and repeatable (a fixed seed and example count); the
release check raises the count through FUZZ_EXAMPLES (see the README).
Cases are drawn first and then sent through httpx's ASGI transport on the
test's own event loop, so the PostgreSQL pool is used from the loop that opened it.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from litestar import Litestar
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import AGENT, ALICE, PARTNER_KEY, make_client

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
SEED = int(os.environ.get("FUZZ_SEED", "20261130"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
IDENTITIES = {
    "customer": {"X-ROLE": "customer", "X-USER": ALICE},
    "admin": {"X-ROLE": "admin", "X-USER": AGENT},
    "partner": {"X-API-KEY": PARTNER_KEY},
}


def _schema_document() -> dict[str, Any]:
    from main import create_app

    return create_app().openapi_schema.to_schema()


SCHEMA = schemathesis.openapi.from_dict(_schema_document())
OPERATIONS = sorted(op.ok().label for op in SCHEMA.get_all_operations())


# Any string is a valid attachment path (unknown ones are 404): there is no invalid input to generate.
NOTHING_TO_NEGATE = {"GET /media/{path}"}


def _takes_input(label: str) -> bool:
    """Negative cases need something to break: a parameter or a body."""
    if label in NOTHING_TO_NEGATE:
        return False
    op = SCHEMA.find_operation_by_label(label)
    return any(len(part) for part in (op.path_parameters, op.query, op.headers, op.body))


RUNS = [
    pytest.param(label, identity, mode, id=f"{label}-{identity}-{mode}")
    for label in OPERATIONS
    for identity in IDENTITIES
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or _takes_input(label)
]


def draw_cases(label: str, identity: str, mode: GenerationMode) -> list[Any]:
    """The same cases on every run: Hypothesis with a fixed seed, no example database."""
    operation = SCHEMA.find_operation_by_label(label)
    strategy = operation.as_strategy(generation_mode=mode, headers=IDENTITIES[identity])
    cases: list[Any] = []

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        database=None,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        phases=["generate"],
    )
    @given(st.data())
    def collect(data: st.DataObject) -> None:
        cases.append(data.draw(strategy))

    collect()
    return cases


async def send(client: httpx.AsyncClient, case: Any) -> httpx.Response:
    """Serialise the case exactly as schemathesis would (via requests), then send the bytes."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    kwargs.pop("cookies", None)
    prepared = requests.Request(**kwargs).prepare()
    # Generated header values may hold any character; send them as UTF-8 bytes, as a raw client could.
    headers = {k: v.encode() if isinstance(v, str) else v for k, v in prepared.headers.items()}
    return await client.request(
        prepared.method or "GET", prepared.url or "", headers=headers, content=prepared.body
    )


async def seed_tickets(app: Litestar) -> None:
    """A few tickets (with a comment and a file) so generated ids 1-3 reach real rows."""
    async with make_client(app, IDENTITIES["customer"]) as customer:
        for n in range(3):
            created = await customer.post(
                "/customer/tickets",
                data={"title": f"Seeded {n}"},
                files=[("attachments", ("a.txt", b"hello", "text/plain"))],
            )
            assert created.status_code == 201, created.text
            await customer.post(f"/customer/tickets/{created.json()['id']}/comments", json={"message": "hi"})


def test_every_operation_is_fuzzed() -> None:
    """The fuzzer covers the whole documented API: adding an operation adds it here too."""
    assert set(OPERATIONS) == {
        "GET /healthz",
        "GET /readyz",
        "GET /categories",
        "GET /media/{path}",
        "POST /customer/tickets",
        "GET /customer/tickets",
        "GET /customer/tickets/{ticket_id}",
        "POST /customer/tickets/{ticket_id}/comments",
        "POST /customer/tickets/{ticket_id}/close",
        "GET /admin/tickets",
        "GET /admin/tickets/stats",
        "GET /admin/tickets/{ticket_id}",
        "PUT /admin/tickets/{ticket_id}",
        "PATCH /admin/tickets/{ticket_id}",
        "POST /admin/tickets/{ticket_id}/comments",
        "POST /external/tickets",
        "POST /auth/token",
        "POST /auth/refresh",
        "POST /auth/logout",
        "POST /auth/customer/magic-link",
        "POST /auth/customer/verify",
    }
    assert len(RUNS) == 21 * 3 + 17 * 3  # positive for all; negative where there is input to break


@pytest.mark.parametrize(("label", "identity", "mode"), RUNS)
async def test_fuzzed_requests_get_documented_answers(
    app: Litestar, label: str, identity: str, mode: GenerationMode
) -> None:
    await seed_tickets(app)
    failures: list[str] = []
    async with make_client(app) as client:
        for case in draw_cases(label, identity, mode):
            response = await send(client, case)
            try:
                case.validate_response(response, checks=CHECKS)
            except FailureGroup as error:
                failures.append(
                    f"{case.as_curl_command()}\n-> {response.status_code} {response.text[:300]}\n{error}"
                )
    assert not failures, "\n\n".join(failures[:5])


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, {"status_code": 500, "detail": "Internal server error"}),
        (418, {"status_code": 418, "detail": "Undocumented status"}),
        (200, {"unexpected": "shape"}),
    ],
)
def test_the_checks_catch_what_they_are_for(status: int, body: dict[str, Any]) -> None:
    """A 5xx, an undocumented status and a body off the schema are each reported."""
    case = SCHEMA.find_operation_by_label("GET /admin/tickets/stats").Case(headers=IDENTITIES["admin"])
    request = httpx.Request("GET", "http://testserver/admin/tickets/stats", headers=IDENTITIES["admin"])
    response = httpx.Response(status, json=body, request=request)
    response.elapsed = timedelta(milliseconds=1)
    with pytest.raises(FailureGroup):
        case.validate_response(response, checks=CHECKS)


BODY_OPERATIONS = [label for label in OPERATIONS if len(SCHEMA.find_operation_by_label(label).body)]


@pytest.mark.parametrize("label", BODY_OPERATIONS)
async def test_wrong_media_types_and_oversized_bodies_get_documented_answers(
    app: Litestar, label: str
) -> None:
    """What the generator never sends: a body of another media type, and one over the size limit."""
    from main import create_app

    await seed_tickets(app)
    small = create_app(replace(app.state.settings, max_request_bytes=64 * 1024))
    operation = SCHEMA.find_operation_by_label(label)
    identity = "partner" if label.startswith("POST /external") else label.split("/")[1]
    headers = IDENTITIES.get(identity, {})  # /auth/* needs no identity
    method, path = label.split(" ")
    url = path.replace("{ticket_id}", "1")
    async with make_client(small, headers) as client:
        for content_type, body, status in [
            ("text/plain", b"hello", 415),
            ("application/json", b'{"title": "' + b"x" * 70_000 + b'"}', 413),
        ]:
            response = await client.request(method, url, content=body, headers={"Content-Type": content_type})
            assert response.status_code == status, response.text
            case = operation.Case(headers=headers, path_parameters={"ticket_id": 1})
            case.validate_response(response, checks=[status_code_conformance, response_schema_conformance])
