"""SIGTERM lets in-flight requests finish, refuses new ones, and closes the database pool."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar
from piccolo.engine.postgres import PostgresEngine

from tests.conftest import ALICE
from tests.robustness.server import Server
from tests.robustness.test_uploads import BOUNDARY, multipart
from tickets.tables import Ticket

CHUNKS = 20
CHUNK_PAUSE = 0.15
REFUSAL_TIMEOUT = 5.0


async def refused(url: str) -> None:
    """Wait until the server stops accepting connections (it has begun shutting down)."""
    deadline = asyncio.get_running_loop().time() + REFUSAL_TIMEOUT
    async with httpx.AsyncClient(base_url=url, timeout=1) as client:
        while asyncio.get_running_loop().time() < deadline:
            try:
                await client.get("/healthz", headers={"Connection": "close"})
            except httpx.ConnectError:
                return
            await asyncio.sleep(0.05)
    pytest.fail("the server still accepted connections after SIGTERM")


async def server_connections(app: Litestar, application_name: str) -> int:
    engine = app.state.engine
    rows = await engine.run_ddl(
        f"SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = '{application_name}'"
    )
    return rows[0]["n"]


@pytest.fixture
def tagged_env(app: Litestar) -> dict[str, str]:
    """On PostgreSQL, the server's connections carry an application name the test can count."""
    if not isinstance(app.state.engine, PostgresEngine):
        return {}
    url = os.environ["DATABASE_URL"]
    name = f"helpdesk-shutdown-{uuid.uuid4().hex[:8]}"
    return {"DATABASE_URL": f"{url}{'&' if '?' in url else '?'}application_name={name}", "APP_NAME_TAG": name}


async def test_sigterm_lets_a_slow_upload_finish_and_closes_the_pool(app: Litestar, tagged_env) -> None:
    payload = os.urandom(400_000)
    body = multipart([("title", "Slow upload", None), ("attachments", payload, "slow.bin")])
    step = len(body) // CHUNKS + 1
    halfway = asyncio.Event()

    async def slowly() -> AsyncIterator[bytes]:
        for n in range(0, len(body), step):
            yield body[n : n + step]
            if n >= len(body) // 4:
                halfway.set()
            await asyncio.sleep(CHUNK_PAUSE)

    with Server(log_level="info", env=tagged_env) as server:
        headers = {
            "X-ROLE": "customer",
            "X-USER": ALICE,
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Content-Length": str(len(body)),
        }
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            upload = asyncio.create_task(client.post("/customer/tickets", content=slowly(), headers=headers))
            await halfway.wait()
            name = tagged_env.get("APP_NAME_TAG")
            if name:
                assert await server_connections(app, name) >= 1
            assert server.process is not None
            server.process.send_signal(signal.SIGTERM)
            await refused(server.url)  # the server is shutting down: no new connections
            assert not upload.done(), "the upload must still be streaming while the server shuts down"
            response = await upload
        assert response.status_code == 201, response.text
        [attachment] = response.json()["attachments"]
        assert attachment["size"] == len(payload)
        # uvicorn re-raises the signal once it has shut down cleanly, so the exit reports SIGTERM.
        assert await asyncio.to_thread(server.process.wait, 30) in (0, -signal.SIGTERM)
        output = server.output()
        assert "Waiting for application shutdown." in output
        assert "Application shutdown complete." in output
        assert "Traceback" not in output and "ERROR" not in output
    assert [t["title"] for t in await Ticket.select(Ticket.title)] == ["Slow upload"]
    if name:
        assert await server_connections(app, name) == 0
