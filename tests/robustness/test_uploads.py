"""Uploads at the edges: form part limits, empty files, hostile names, large files streamed
to disk, and clients that give up half-way; a refused request never leaves a file behind."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from dataclasses import replace

import httpx
import pytest
from litestar import Litestar

from core.middleware import ACCESS_LOG
from tests.conftest import ALICE, make_client
from tests.robustness.server import Server
from tests.tickets.test_attachments import files_on_disk, stored_path
from tickets import storage
from tickets.tables import Ticket, TicketAttachment

CUSTOMER = {"X-ROLE": "customer", "X-USER": ALICE}
BOUNDARY = "robustness-boundary-7c1f"
RANDOM_NAME = re.compile(r"^[0-9a-f]{32}$")


def multipart(parts: list[tuple[str, bytes | str, str | None]]) -> bytes:
    """A multipart body built by hand, so file names reach the server exactly as written."""
    out = bytearray()
    for name, value, filename in parts:
        out += f"--{BOUNDARY}\r\n".encode()
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"Content-Disposition: {disposition}\r\n".encode("utf-8", "surrogateescape")
        if filename is not None:
            out += b"Content-Type: application/octet-stream\r\n"
        out += b"\r\n" + (value.encode() if isinstance(value, str) else value) + b"\r\n"
    out += f"--{BOUNDARY}--\r\n".encode()
    return bytes(out)


def form_headers() -> dict[str, str]:
    return {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


async def assert_nothing_stored(media_root, before) -> None:
    assert await Ticket.count() == 0
    assert await TicketAttachment.count() == 0
    assert files_on_disk(media_root) == before


async def test_more_form_parts_than_allowed_is_a_clear_400(app: Litestar, customer, media_root) -> None:
    limit = app.multipart_form_part_limit
    assert limit == app.state.settings.max_upload_files + 20
    before = files_on_disk(media_root)
    parts = [("title", "Many parts", None)] + [("attachments", b"x", f"{n}.txt") for n in range(limit)]
    response = await customer.post("/customer/tickets", content=multipart(parts), headers=form_headers())
    assert response.status_code == 400
    assert response.json() == {
        "status_code": 400,
        "detail": f"Too many form parts; at most {limit} (files and fields together)",
    }
    await assert_nothing_stored(media_root, before)


async def test_many_text_fields_also_count_as_parts(app: Litestar, customer, media_root) -> None:
    limit = app.multipart_form_part_limit
    parts = [("title", "t", None)] + [(f"junk{n}", "v", None) for n in range(limit)]
    response = await customer.post("/customer/tickets", content=multipart(parts), headers=form_headers())
    assert response.status_code == 400
    assert "Too many form parts" in response.json()["detail"]


async def test_a_zero_byte_file_is_stored_and_downloads_empty(customer, anonymous, media_root) -> None:
    response = await customer.post(
        "/customer/tickets", data={"title": "Empty file"}, files=[("attachments", ("empty.txt", b""))]
    )
    assert response.status_code == 201, response.text
    [attachment] = response.json()["attachments"]
    assert attachment["size"] == 0 and attachment["filename"] == "empty.txt"
    assert (media_root / stored_path(attachment["url"])).read_bytes() == b""
    download = await anonymous.get(attachment["url"])
    assert download.status_code == 200 and download.content == b""


@pytest.mark.parametrize(
    ("client_name", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("evil\x00.txt", "evil.txt"),
        ("a" * 4096 + ".txt", ("a" * 4096 + ".txt")[-255:]),
        ("..", "attachment"),
        ("\x01\x02", "attachment"),
        ("répertoire/été.pdf", "été.pdf"),
    ],
    ids=["traversal", "nul", "4kb", "dotdot", "control", "unicode"],
)
async def test_stored_names_are_random_whatever_the_client_sends(
    customer, anonymous, media_root, client_name: str, shown: str
) -> None:
    body = multipart([("title", "Named", None), ("attachments", b"payload", client_name)])
    response = await customer.post("/customer/tickets", content=body, headers=form_headers())
    assert response.status_code == 201, response.text
    [attachment] = response.json()["attachments"]
    assert attachment["filename"] == shown
    stored = media_root / stored_path(attachment["url"])
    assert RANDOM_NAME.match(stored.name)
    assert stored.resolve().is_relative_to((media_root / "attachments").resolve())
    assert stored.read_bytes() == b"payload"
    assert (await anonymous.get(attachment["url"])).content == b"payload"


async def test_a_large_file_is_streamed_to_disk_not_held_in_memory(customer, monkeypatch) -> None:
    rolled: list[bool] = []
    save = storage.AttachmentStore._save

    def spying_save(self, upload):
        rolled.append(upload.rolled_to_disk)
        return save(self, upload)

    monkeypatch.setattr(storage.AttachmentStore, "_save", spying_save)
    big = bytes(range(256)) * (3 * 4096)  # 3 MB
    response = await customer.post(
        "/customer/tickets", data={"title": "Big"}, files=[("attachments", ("big.bin", big))]
    )
    assert response.status_code == 201
    assert rolled == [True]
    assert response.json()["attachments"][0]["size"] == len(big)


async def test_a_client_that_disconnects_mid_upload_leaves_nothing(app: Litestar, media_root, caplog) -> None:
    caplog.set_level(logging.INFO)
    ACCESS_LOG.addHandler(caplog.handler)
    before = files_on_disk(media_root)
    body = multipart([("title", "Cut off", None), ("attachments", b"z" * 200_000, "part.bin")])
    chunks = [body[:1000], body[1000:50_000]]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/customer/tickets",
        "raw_path": b"/customer/tickets",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
            (b"content-length", str(len(body)).encode()),
            (b"x-role", b"customer"),
            (b"x-user", ALICE.encode()),
        ],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
    }

    async def receive():
        if chunks:
            return {"type": "http.request", "body": chunks.pop(0), "more_body": True}
        return {"type": "http.disconnect"}

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    try:
        await app(scope, receive, send)
    finally:
        ACCESS_LOG.removeHandler(caplog.handler)
    await assert_nothing_stored(media_root, before)
    [line] = [r.getMessage() for r in caplog.records if r.name == "helpdesk.access"]
    assert '"status":499' in line, line
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_client_that_hangs_up_on_a_real_server_leaves_nothing(media_root) -> None:
    before = files_on_disk(media_root)
    body = multipart([("title", "Hung up", None), ("attachments", b"y" * 500_000, "part.bin")])
    with Server() as server:
        head = (
            "POST /customer/tickets HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"X-ROLE: customer\r\nX-USER: {ALICE}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(head + body[:200_000])
            await asyncio.sleep(0.3)
        await asyncio.sleep(0.5)
        async with httpx.AsyncClient(base_url=server.url, headers=CUSTOMER) as client:
            after = await client.post("/customer/tickets", json={"title": "Still serving"})
        assert after.status_code == 201
        assert "Traceback" not in server.output()
    assert await TicketAttachment.count() == 0
    assert files_on_disk(media_root) == before
    assert [t["title"] for t in await Ticket.select(Ticket.title)] == ["Still serving"]


async def test_a_file_over_the_limit_among_several_stores_none_of_them(app: Litestar, media_root) -> None:
    from main import create_app

    small = create_app(replace(app.state.settings, max_upload_bytes=1000))
    before = files_on_disk(media_root)
    async with make_client(small, CUSTOMER) as client:
        files = [("attachments", (f"{n}.txt", b"k" * (2000 if n == 2 else 10))) for n in range(4)]
        response = await client.post("/customer/tickets", data={"title": "Mixed"}, files=files)
    assert response.status_code == 413
    assert response.json()["detail"] == "Attachment '2.txt' is larger than 1000 bytes"
    await assert_nothing_stored(media_root, before)
