"""A server killed with SIGKILL mid-load loses no acknowledged write and shows nothing half-written.

Customers create tickets with attachments and comment on them, a partner ingests
tickets with attachments, all at once against a real uvicorn process; once enough
writes are acknowledged the process is killed without warning. A new process on
the same database and media root must then show every acknowledged write whole.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from litestar import Litestar

from tests.conftest import AGENT, PARTNER_KEY
from tests.robustness.server import Server
from tickets.tables import Comment, Ticket, TicketAttachment, TicketEvent

ACKED_BEFORE_KILL = 40
WORKERS = 6
LOAD_TIMEOUT = 60.0


@dataclass
class Acked:
    """What a 2xx promised: the ticket, its files (by URL path) and its comments."""

    ticket_id: int
    title: str
    external_ref: str | None
    files: dict[str, bytes]
    comments: dict[int, str] = field(default_factory=dict)


@dataclass
class Load:
    acked: list[Acked] = field(default_factory=list)
    writes: int = 0
    cut: int = 0
    failures: list[str] = field(default_factory=list)
    enough: asyncio.Event = field(default_factory=asyncio.Event)

    def count(self) -> None:
        self.writes += 1
        if self.writes >= ACKED_BEFORE_KILL:
            self.enough.set()


def attachments(worker: int, n: int) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [
        ("attachments", (f"w{worker}-{n}-{k}.bin", os.urandom(1000 + 7919 * k), "application/octet-stream"))
        for k in range(1 + n % 3)
    ]


def url_path(url: str) -> str:
    return urlsplit(url).path


async def customer_writes(url: str, worker: int, load: Load) -> None:
    headers = {"X-ROLE": "customer", "X-USER": f"crash{worker}@example.com"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        for n in range(10_000):
            files = attachments(worker, n)
            title = f"crash w{worker} n{n}"
            response = await client.post("/customer/tickets", data={"title": title}, files=files)
            if response.status_code != 201:
                load.failures.append(f"create {response.status_code} {response.text}")
                return
            body = response.json()
            sent = {name: data for _, (name, data, _) in files}
            acked = Acked(
                ticket_id=body["id"],
                title=title,
                external_ref=None,
                files={url_path(a["url"]): sent[a["filename"]] for a in body["attachments"]},
            )
            load.acked.append(acked)
            load.count()
            for c in range(2):
                message = f"comment {c} on w{worker} n{n}"
                comment = await client.post(
                    f"/customer/tickets/{acked.ticket_id}/comments", json={"message": message}
                )
                if comment.status_code != 201:
                    load.failures.append(f"comment {comment.status_code} {comment.text}")
                    return
                acked.comments[comment.json()["id"]] = message
                load.count()


async def partner_writes(url: str, worker: int, load: Load) -> None:
    async with httpx.AsyncClient(base_url=url, headers={"X-API-KEY": PARTNER_KEY}, timeout=30) as client:
        for n in range(10_000):
            files = attachments(worker, n)
            ref = f"EXT-{worker}-{n}"
            title = f"partner w{worker} n{n}"
            response = await client.post(
                "/external/tickets", data={"title": title, "external_ref": ref}, files=files
            )
            if response.status_code != 201:
                load.failures.append(f"ingest {response.status_code} {response.text}")
                return
            body = response.json()
            # The receipt lists URLs in the order the files were sent.
            sent = [data for _, (_, data, _) in files]
            urls = [url_path(u) for u in body["attachments"]]
            assert len(urls) == len(sent)
            load.acked.append(Acked(body["ticket_id"], title, ref, dict(zip(urls, sent, strict=True))))
            load.count()


async def run_until_killed(server: Server) -> Load:
    load = Load()

    async def guarded(work) -> None:
        try:
            await work
        except httpx.TransportError:  # the server died under this request: never acknowledged
            load.cut += 1

    tasks = [
        asyncio.create_task(guarded((partner_writes if w % 3 == 2 else customer_writes)(server.url, w, load)))
        for w in range(WORKERS)
    ]
    await asyncio.wait_for(load.enough.wait(), LOAD_TIMEOUT)
    server.kill()
    await asyncio.wait_for(asyncio.gather(*tasks), LOAD_TIMEOUT)
    return load


async def test_a_killed_server_loses_no_acknowledged_write(app: Litestar, media_root: Path) -> None:
    with Server() as first:
        load = await run_until_killed(first)
    assert not load.failures, load.failures[:3]
    assert load.writes >= ACKED_BEFORE_KILL
    assert load.cut >= 1, "the kill should land while requests are in flight"

    with Server() as second:
        async with httpx.AsyncClient(
            base_url=second.url, headers={"X-ROLE": "admin", "X-USER": AGENT}, timeout=30
        ) as admin:
            assert (await admin.get("/readyz")).status_code == 200
            for acked in load.acked:
                response = await admin.get(f"/admin/tickets/{acked.ticket_id}")
                assert response.status_code == 200, acked
                detail = response.json()
                assert detail["title"] == acked.title
                assert detail["external_ref"] == acked.external_ref
                assert {url_path(a["url"]) for a in detail["attachments"]} == set(acked.files)
                for path, data in acked.files.items():
                    assert (await admin.get(path)).content == data
                stored = {c["id"]: c["message"] for c in detail["comments"]}
                assert acked.comments.items() <= stored.items()

    await assert_nothing_half_written(media_root)


async def assert_nothing_half_written(media_root: Path) -> None:
    """Every row the database shows is whole: files on disk with their size, events with their rows."""
    for row in await TicketAttachment.select(TicketAttachment.file, TicketAttachment.size):
        path = media_root / row["file"]
        assert path.is_file(), row
        assert path.stat().st_size == row["size"], row
    created = await TicketEvent.select(TicketEvent.ticket).where(TicketEvent.kind == "created")
    assert sorted(r["ticket"] for r in created) == sorted(r["id"] for r in await Ticket.select(Ticket.id))
    commented = await TicketEvent.select(TicketEvent.changes).where(TicketEvent.kind == "commented")
    recorded = sorted(e["changes"]["comment_id"][1] for e in map(_decoded, commented))
    assert recorded == sorted(r["id"] for r in await Comment.select(Comment.id))


def _decoded(row: dict) -> dict:
    changes = row["changes"]
    return {"changes": json.loads(changes) if isinstance(changes, str) else changes}
