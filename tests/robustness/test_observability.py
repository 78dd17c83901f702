"""What an operator sees: security headers, request ids, one JSON log line per request,
/readyz and /metrics; and what never shows up in the logs: secrets and bodies."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import httpx
import pytest
from litestar import Litestar
from piccolo.apps.migrations.tables import Migration
from piccolo.engine.postgres import PostgresEngine

from core import health
from core.middleware import ACCESS_LOG
from core.settings import keyed_digest
from tests.conftest import AGENT, ALICE, PARTNER_KEY, make_client
from tests.test_staff_ui import StaffUser, login, staff_client, staff_user  # noqa: F401 - fixture

HEX_ID = re.compile(r"^[0-9a-f]{32}$")
API_CSP = "default-src 'none'; frame-ancestors 'none'"


@pytest.fixture
def access_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Records of every logger at INFO (what the service emits unless debugging is turned on).

    The access logger does not propagate (it has its own JSON handler), so it is captured directly.
    """
    caplog.set_level(logging.INFO)
    ACCESS_LOG.addHandler(caplog.handler)
    yield caplog
    ACCESS_LOG.removeHandler(caplog.handler)


def service_log_text(caplog: pytest.LogCaptureFixture) -> str:
    """Everything logged, except the test client's own request lines (httpx's logger)."""
    return "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''}"
        for r in caplog.records
        if not r.name.startswith("httpx")
    )


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "helpdesk.access"]


async def app_with(app: Litestar, **changes) -> Litestar:
    from main import create_app

    return create_app(replace(app.state.settings, **changes))


# Security headers


async def test_the_home_page_has_a_strict_csp(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src" not in csp and "unsafe-inline" not in csp
    assert "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/categories", 200),
        ("GET", "/customer/tickets", 200),
        ("GET", "/customer/tickets/999", 404),
        ("GET", "/no/such/path", 404),
        ("DELETE", "/customer/tickets", 405),
        ("POST", "/customer/tickets", 400),
    ],
)
async def test_every_api_answer_has_the_security_headers(
    customer: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await customer.request(method, path, content=b"{" if method == "POST" else None)
    assert response.status_code == status
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["content-security-policy"] == API_CSP
    assert "strict-transport-security" not in response.headers


async def test_the_staff_ui_may_frame_itself_and_still_loads(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/staff/")
    assert response.status_code == 200
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in response.headers


async def test_staff_login_works_behind_the_headers(app: Litestar, staff_user: StaffUser) -> None:  # noqa: F811
    async with staff_client(app) as client:
        response = await login(client, staff_user.username, staff_user.password)
        assert response.status_code in (200, 303)
        tables = await client.get("/staff/api/tables/")
        assert tables.status_code == 200
        assert tables.headers["x-frame-options"] == "SAMEORIGIN"


async def test_downloads_keep_their_own_sandbox_policy(customer: httpx.AsyncClient, anonymous) -> None:
    created = await customer.post(
        "/customer/tickets", data={"title": "x"}, files=[("attachments", ("a.html", b"<p>", "text/html"))]
    )
    url = created.json()["attachments"][0]["url"]
    response = await anonymous.get(url)
    assert response.headers["content-security-policy"] == "sandbox"
    assert response.headers.get_list("x-content-type-options") == ["nosniff"]


async def test_hsts_only_in_production(app: Litestar) -> None:
    auth = replace(app.state.settings.auth, mode="token")
    production = await app_with(app, app_env="production", auth=auth)
    async with make_client(production) as client:
        response = await client.get("/healthz")
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")


async def test_cors_answers_only_configured_origins(anonymous: httpx.AsyncClient) -> None:
    allowed = await anonymous.get("/categories", headers={"Origin": "http://127.0.0.1:3000"})
    assert allowed.headers["access-control-allow-origin"] == "http://127.0.0.1:3000"
    other = await anonymous.get("/categories", headers={"Origin": "http://localhost:3001"})
    assert "access-control-allow-origin" not in other.headers


# Request ids


async def test_a_valid_request_id_is_echoed(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/categories", headers={"X-Request-ID": "trace-42.a:b"})
    assert response.headers["x-request-id"] == "trace-42.a:b"


@pytest.mark.parametrize("given", [None, "", "x" * 129, "bad id with spaces", "inject\\nline", "é"])
async def test_a_missing_or_invalid_request_id_is_replaced(anonymous: httpx.AsyncClient, given) -> None:
    headers = {} if given is None else {"X-Request-ID": given.encode()}
    first = await anonymous.get("/categories", headers=headers)
    second = await anonymous.get("/categories", headers=headers)
    assert HEX_ID.match(first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_errors_carry_the_request_id_too(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/customer/tickets", headers={"X-Request-ID": "req-1"})
    assert response.status_code == 400
    assert response.headers["x-request-id"] == "req-1"


# The access log


async def test_one_json_line_per_request_with_route_template_and_role(
    access_log, customer, admin, partner, anonymous
) -> None:
    created = await customer.post(
        "/customer/tickets", json={"title": "Log me"}, headers={"X-Request-ID": "r-1"}
    )
    ticket_id = created.json()["id"]
    await admin.get(f"/admin/tickets/{ticket_id}")
    await partner.post("/external/tickets", json={"title": "p", "external_ref": "E-1"})
    await anonymous.get("/nowhere")
    lines = access_lines(access_log)
    assert [(x["method"], x["route"], x["status"], x["role"]) for x in lines] == [
        ("POST", "/customer/tickets", 201, "customer"),
        ("GET", "/admin/tickets/{ticket_id}", 200, "admin"),
        ("POST", "/external/tickets", 201, "partner"),
        ("GET", "<unmatched>", 404, "anonymous"),
    ]
    assert lines[0]["request_id"] == "r-1"
    assert all(HEX_ID.match(x["request_id"]) for x in lines[1:])
    assert all(isinstance(x["duration_ms"], float) and x["duration_ms"] >= 0 for x in lines)


async def test_secrets_and_bodies_never_reach_the_logs(
    app: Litestar,
    access_log,
    staff_user: StaffUser,  # noqa: F811
) -> None:
    body_marker = "body-text-that-must-not-be-logged-7f3a"
    bearer = "bearer-token-that-must-not-be-logged-51c2"
    cookie = "cookie-value-that-must-not-be-logged-9d0e"
    headers = {"Authorization": f"Bearer {bearer}", "Cookie": f"session={cookie}"}
    async with make_client(app, {**headers, "X-ROLE": "customer", "X-USER": ALICE}) as customer:
        await customer.post("/customer/tickets", json={"title": body_marker, "description": body_marker})
        await customer.post(
            "/customer/tickets",
            data={"title": body_marker},
            files=[("attachments", ("f", body_marker.encode()))],
        )
        await customer.post("/customer/tickets", content=f'{{"title": "{body_marker}"')  # malformed
    async with make_client(app, {**headers, "X-API-KEY": PARTNER_KEY}) as partner:
        await partner.post("/external/tickets", json={"title": body_marker, "external_ref": body_marker})
    async with make_client(app, {"X-API-KEY": PARTNER_KEY + "-wrong"}) as intruder:
        await intruder.post("/external/tickets", json={"title": "x", "external_ref": "y"})
    async with make_client(app, {"X-ROLE": "admin", "X-USER": AGENT}) as admin:
        await admin.get(f"/admin/tickets?q={body_marker}")
    async with staff_client(app) as staff:
        assert (await login(staff, staff_user.username, staff_user.password)).status_code in (200, 303)
        await login(staff, staff_user.username, "wrong-" + staff_user.password)
        session = staff.cookies["id"]
    metrics_token = "metrics-token-that-must-not-be-logged"
    guarded = await app_with(app, metrics_token_digest=app.state.settings.digest_secret(metrics_token))
    async with make_client(guarded, {"Authorization": f"Bearer {metrics_token}"}) as scraper:
        assert (await scraper.get("/metrics")).status_code == 200

    logged = service_log_text(access_log)
    assert len(access_lines(access_log)) >= 10
    for secret in (body_marker, bearer, cookie, PARTNER_KEY, staff_user.password, session, metrics_token):
        assert secret not in logged


# Readiness


async def test_readyz_is_ok_when_migrated(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "detail": None}


async def test_readyz_is_503_while_a_migration_is_not_applied(anonymous: httpx.AsyncClient) -> None:
    row = await Migration.select().where(Migration.app_name == "tickets").order_by(Migration.id).first()
    await Migration.delete().where(Migration.id == row["id"])
    try:
        response = await anonymous.get("/readyz")
    finally:
        await Migration.insert(Migration(**row))
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "detail": f"Migrations not applied: tickets:{row['name']}",
    }
    assert (await anonymous.get("/readyz")).status_code == 200


async def test_readyz_is_503_when_the_database_fails(anonymous, monkeypatch) -> None:
    async def unreachable() -> list[str]:
        raise ConnectionRefusedError("connection refused")

    monkeypatch.setattr(health, "_pending_migrations", unreachable)
    response = await anonymous.get("/readyz")
    assert response.status_code == 503
    assert response.json()["detail"] == "The database is unreachable or not migrated"


async def test_every_migration_file_is_expected() -> None:
    apps = {app for app, _ in health.expected_migrations()}
    assert {"tickets", "user", "session_auth"} <= apps


# Metrics


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    for line in text.splitlines():
        match = re.match(r"^(\w+)(?:\{(.*)\})? (\S+)$", line)
        if match and match.group(1) == name:
            found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
            if all(found.get(k) == v for k, v in labels.items()):
                return float(match.group(3))
    return 0.0


@pytest.fixture
async def scrape(anonymous: httpx.AsyncClient) -> AsyncIterator:
    async def get() -> str:
        response = await anonymous.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        return response.text

    yield get


async def test_metrics_count_requests_per_route_template_and_status(scrape, customer) -> None:
    route = "/customer/tickets/{ticket_id}"
    before = sample(await scrape(), "helpdesk_requests_total", path=route, method="GET", status_code="404")
    await customer.get("/customer/tickets/12345")
    await customer.get("/customer/tickets/67890")
    text = await scrape()
    assert sample(text, "helpdesk_requests_total", path=route, method="GET", status_code="404") == before + 2
    assert sample(text, "helpdesk_request_duration_seconds_count", path=route, status_code="404") >= 2
    assert "/customer/tickets/12345" not in text


async def test_metrics_count_tickets_by_source_comments_and_errors(scrape, customer, partner, admin) -> None:
    def counts(text: str) -> tuple[float, ...]:
        return (
            sample(text, "helpdesk_tickets_created_total", source="customer"),
            sample(text, "helpdesk_tickets_created_total", source="external"),
            sample(text, "helpdesk_comments_added_total", role="customer"),
            sample(text, "helpdesk_comments_added_total", role="admin"),
            sample(text, "helpdesk_errors_total", status_code="404"),
        )

    before = counts(await scrape())
    ticket = (await customer.post("/customer/tickets", json={"title": "m"})).json()
    await partner.post("/external/tickets", json={"title": "m", "external_ref": "M-1"})
    await customer.post(f"/customer/tickets/{ticket['id']}/comments", json={"message": "a"})
    await admin.post(f"/admin/tickets/{ticket['id']}/comments", json={"message": "b"})
    await admin.post(f"/admin/tickets/{ticket['id']}/comments", json={"message": "c"})
    await customer.get("/customer/tickets/424242")
    await customer.post("/customer/tickets", json={"title": ""})  # refused: nothing counted as created
    after = counts(await scrape())
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1, 2, 1]


async def test_metrics_report_the_postgres_pool(app: Litestar, scrape) -> None:
    text = await scrape()
    if isinstance(app.state.engine, PostgresEngine):
        assert sample(text, "helpdesk_db_pool_connections", state="max") >= 1
        assert 'helpdesk_db_pool_connections{state="in_use"}' in text
    else:
        assert "helpdesk_db_pool_connections" not in text


async def test_metrics_can_be_switched_off(app: Litestar) -> None:
    async with make_client(await app_with(app, metrics_enabled=False)) as client:
        assert (await client.get("/metrics")).status_code == 404


async def test_metrics_with_a_token_need_the_exact_bearer_token(app: Litestar) -> None:
    secret = app.state.settings.secret_key
    guarded = await app_with(app, metrics_token_digest=keyed_digest(secret, "s3cret-token"))
    async with make_client(guarded) as client:
        assert (await client.get("/metrics")).status_code == 404
        for wrong in ("Bearer s3cret", "Bearer s3cret-token ", "Basic s3cret-token", "s3cret-token"):
            assert (await client.get("/metrics", headers={"Authorization": wrong})).status_code == 404
        ok = await client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200 and "helpdesk_requests_total" in ok.text


def test_metrics_are_off_by_default_in_production() -> None:
    from core.settings import load_settings

    production = {"APP_ENV": "production", "SECRET_KEY": "k" * 40, "EXTERNAL_TICKET_API_KEY": "p" * 40}
    assert load_settings(production).metrics_enabled is False
    assert load_settings({**production, "METRICS_ENABLED": "true"}).metrics_enabled is True
    assert load_settings({}).metrics_enabled is True
