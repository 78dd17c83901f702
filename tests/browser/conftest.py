"""A real server and a real browser for the staff UI tests.

uvicorn serves the app in a subprocess on a free 127.0.0.1 port, against the same
test database as the rest of the suite (the environment is set in tests/conftest.py).
Debian's Chromium is driven headless by Playwright; Playwright's own browser download
is not used. Every page a test visits is saved under screenshots/ (git-ignored).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from piccolo.apps.user.tables import BaseUser
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.conftest import PROJECT_DIR

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = PROJECT_DIR / "screenshots"
VIEWPORT = {"width": 1400, "height": 900}
PASSWORD = "browser-test-password"


@dataclass(frozen=True)
class StaffAccount:
    username: str
    email: str
    password: str


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def live_server(app: Litestar) -> Iterator[str]:
    """uvicorn on a socket bound here (port 0: the system picks a free one), handed over by fd."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "main:app", "--fd", str(sock.fileno()), "--log-level", "warning"],
        cwd=PROJECT_DIR,
        pass_fds=[sock.fileno()],
        env=dict(os.environ),
    )
    sock.close()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the test server exited during start-up"
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the test server did not start within 60 s"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    assert CHROMIUM.exists(), "Browser tests need Debian's Chromium: apt-get install -y chromium"
    return str(CHROMIUM)


@pytest.fixture(scope="session")
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


async def _account(superuser: bool) -> StaffAccount:
    username = f"{'lead' if superuser else 'agent'}-{uuid.uuid4().hex[:8]}"
    email = f"{username}@example.com"
    await BaseUser.create_user(
        username=username, email=email, password=PASSWORD, active=True, admin=True, superuser=superuser
    )
    return StaffAccount(username, email, PASSWORD)


@pytest.fixture(scope="session")
async def lead() -> AsyncIterator[StaffAccount]:
    """A superuser."""
    account = await _account(superuser=True)
    yield account
    await BaseUser.delete().where(BaseUser.username == account.username)


@pytest.fixture(scope="session")
async def agent() -> AsyncIterator[StaffAccount]:
    """A staff user who is not a superuser."""
    account = await _account(superuser=False)
    yield account
    await BaseUser.delete().where(BaseUser.username == account.username)


def engine_name() -> str:
    return "postgres" if isinstance(engine_finder(), PostgresEngine) else "sqlite"


async def snap(page: Page, name: str) -> None:
    """Save what the agent sees now (one file per engine, so both runs are kept)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    await page.wait_for_load_state("networkidle")
    await page.wait_for_timeout(400)  # the SPA fades its tables in
    await page.screenshot(path=str(SCREENSHOTS / f"{engine_name()}-{name}.png"), full_page=True)


async def sign_in(page: Page, server: str, account: StaffAccount) -> None:
    await page.goto(f"{server}/staff/")
    await page.fill("input[name=username]", account.username)
    await page.fill("input[name=password]", account.password)
    await page.click("[data-uitest=login_button]")
    await page.wait_for_selector("text=Agent actions", timeout=15_000)


_SIGNED_IN: dict[str, Any] = {}


async def signed_in_context(browser: Browser, server: str, account: StaffAccount) -> BrowserContext:
    """A fresh browser context with the account's session; the UI login runs once per account,
    which keeps the suite well under the admin's login rate limit (per client address)."""
    if account.username not in _SIGNED_IN:
        context = await browser.new_context(viewport=VIEWPORT)
        page = await context.new_page()
        await sign_in(page, server, account)
        _SIGNED_IN[account.username] = await context.storage_state()
        await context.close()
    return await browser.new_context(viewport=VIEWPORT, storage_state=_SIGNED_IN[account.username])


@pytest.fixture
async def lead_page(browser: Browser, live_server: str, lead: StaffAccount) -> AsyncIterator[Page]:
    context = await signed_in_context(browser, live_server, lead)
    yield await context.new_page()
    await context.close()


@pytest.fixture
async def agent_page(browser: Browser, live_server: str, agent: StaffAccount) -> AsyncIterator[Page]:
    context = await signed_in_context(browser, live_server, agent)
    yield await context.new_page()
    await context.close()


@pytest.fixture
async def anonymous_page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport=VIEWPORT)
    yield await context.new_page()
    await context.close()


@pytest.fixture
async def api(live_server: str) -> AsyncIterator[httpx.AsyncClient]:
    """The JSON API of the same server, as an agent."""
    headers = {"X-ROLE": "admin", "X-USER": "api-agent@example.com"}
    async with httpx.AsyncClient(base_url=live_server, headers=headers, timeout=30) as client:
        yield client


@pytest.fixture
async def customer_api(live_server: str) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"X-ROLE": "customer", "X-USER": "carol@example.com"}
    async with httpx.AsyncClient(base_url=live_server, headers=headers, timeout=30) as client:
        yield client
