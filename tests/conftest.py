"""Test setup: a fresh database (SQLite file, or TEST_DATABASE_URL), migrated once;
every test starts from empty tables with the seeded categories.

The environment is set before the app is imported: Piccolo picks its engine on
first use and settings are read once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="helpdesk-tests-"))
os.environ["DATABASE_URL"] = os.environ.get("TEST_DATABASE_URL", "")
os.environ["SQLITE_PATH"] = str(_TMP / "test.sqlite")
os.environ["MEDIA_ROOT"] = str(_TMP / "media")
os.environ["APP_ENV"] = "development"
os.environ["EXTERNAL_TICKET_API_KEY"] = "dev-external-api-key"
os.environ["API_PAGE_SIZE"] = "20"
os.environ["CORS_ALLOWED_ORIGINS"] = "http://localhost:3000,http://127.0.0.1:3000"
# Webhook tests run their own workers; limits and Redis are set per test where they matter.
os.environ["WEBHOOK_WORKER_ENABLED"] = "false"
os.environ["REDIS_URL"] = ""
os.environ["PARTNER_RATE_LIMIT_PER_MINUTE"] = "600"
os.environ["CUSTOMER_RATE_LIMIT_PER_MINUTE"] = "120"

import httpx  # noqa: E402
import pytest  # noqa: E402
from litestar import Litestar  # noqa: E402

PROJECT_DIR = Path(__file__).resolve().parent.parent
PARTNER_KEY = "dev-external-api-key"
ALICE = "alice@example.com"
BOB = "bob@example.com"
AGENT = "agent@example.com"


def _migrate() -> None:
    subprocess.run(
        [sys.executable, "-m", "piccolo.main", "migrations", "forwards", "all"],
        cwd=PROJECT_DIR,
        check=True,
        capture_output=True,
    )


async def _reset_tables() -> None:
    from piccolo.engine import engine_finder
    from piccolo.engine.postgres import PostgresEngine

    from core.settings import get_settings
    from partners.keys import ensure_default_partner
    from tickets.seed import seed_categories

    engine = engine_finder()
    tables = (
        "ticket_event",
        "ticket_attachment",
        "comment",
        "ticket",
        "category",
        "webhook_delivery",
        "idempotency_record",
        "partner_key",
        "partner",
        "refresh_token",
        "magic_link_code",
        "outbox_mail",
    )
    if isinstance(engine, PostgresEngine):
        await engine.run_ddl(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    else:
        for table in tables:
            await engine.run_ddl(f"DELETE FROM {table}")
    await seed_categories()
    await ensure_default_partner(get_settings())


@pytest.fixture(scope="session")
async def app() -> AsyncIterator[Litestar]:
    _migrate()
    from main import create_app

    application = create_app()
    for hook in application.on_startup:
        await hook(application)
    yield application
    for hook in application.on_shutdown:
        await hook(application)


@pytest.fixture(autouse=True)
async def clean_db(app: Litestar) -> None:
    await _reset_tables()
    app.state.rate_limiter.reset()


def make_client(app: Litestar, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers=headers or {}
    )


@pytest.fixture
async def anonymous(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(app) as client:
        yield client


@pytest.fixture
async def customer(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """Alice, a customer."""
    async with make_client(app, {"X-ROLE": "customer", "X-USER": ALICE}) as client:
        yield client


@pytest.fixture
async def other_customer(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """Bob, another customer."""
    async with make_client(app, {"X-ROLE": "customer", "X-USER": BOB}) as client:
        yield client


@pytest.fixture
async def admin(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(app, {"X-ROLE": "admin", "X-USER": AGENT}) as client:
        yield client


@pytest.fixture
async def partner(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(app, {"X-API-KEY": PARTNER_KEY}) as client:
        yield client


@pytest.fixture
def media_root(app: Litestar) -> Path:
    return app.state.settings.media_root
