"""Shared pieces of the partner tests: partners with keys, and a real HTTP receiver on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from litestar import Litestar

from core.settings import Settings, get_settings
from partners.keys import issue_key
from partners.tables import Partner


async def make_partner(**fields: Any) -> int:
    partner = Partner(name=fields.pop("name", "acme"), **fields)
    await partner.save()
    return partner.id


async def partner_with_key(**fields: Any) -> tuple[int, str]:
    partner_id = await make_partner(**fields)
    issued = await issue_key(get_settings(), partner_id, "test")
    return partner_id, issued.key


def client_for(
    app: Litestar, key: str | None = None, ip: str = "127.0.0.1", **headers: str
) -> httpx.AsyncClient:
    if key is not None:
        headers["X-API-KEY"] = key
    transport = httpx.ASGITransport(app=app, client=(ip, 123))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)


def settings_with(**changes: Any) -> Settings:
    return dataclasses.replace(get_settings(), **changes)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each request with the next planned (status, delay), then 200s."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    plan: list[tuple[int, float]] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")[1:]
            headers = {
                k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines if ":" in line)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append(Received(headers, body))
            status, delay = self.plan.pop(0) if self.plan else (200, 0.0)
            if delay:
                await asyncio.sleep(delay)
            writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".encode())
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


@contextlib.asynccontextmanager
async def running_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    receiver.url = f"http://127.0.0.1:{port}/hooks"
    try:
        yield receiver
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 2)
