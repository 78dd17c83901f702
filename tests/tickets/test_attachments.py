"""Attachments on POST /customer/tickets: stored safely, downloaded byte for byte, limited in size."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from litestar import Litestar

from tests.conftest import ALICE, make_client
from tickets.tables import Ticket, TicketAttachment

ATTACHMENT_KEYS = {"id", "url", "filename", "content_type", "size", "created_at"}
URL = re.compile(r"^http://testserver/media/(attachments/\d{4}/\d{2}/\d{2}/[^/]+)$")
SMALL_FILE_LIMIT = 1024
SMALL_REQUEST_LIMIT = 8 * 1024
CUSTOMER_HEADERS = {"X-ROLE": "customer", "X-USER": ALICE}
NOT_FOUND = {"status_code": 404, "detail": "Attachment not found"}


def files_on_disk(root: Path) -> set[Path]:
    """Every file under root, except the test database's own SQLite files."""
    if not root.exists():
        return set()
    return {p for p in root.rglob("*") if p.is_file() and not p.name.startswith("test.sqlite")}


def utc_date_folders() -> set[str]:
    """Today's UTC date as YYYY/MM/DD (and its neighbours, so midnight does not flake)."""
    now = datetime.now(UTC)
    return {(now + timedelta(minutes=m)).strftime("%Y/%m/%d") for m in (-1, 0, 1)}


def stored_path(url: str) -> str:
    match = URL.match(url)
    assert match, url
    return match.group(1)


async def open_ticket(client, files=None, **fields):
    """POST a multipart ticket; `files` is a list of (filename, bytes, content_type)."""
    data = {"title": "Printer on fire", **fields}
    parts = [("attachments", f) for f in files or []]
    return await client.post("/customer/tickets", data=data, files=parts or None)


async def open_ok(client, files=None, **fields) -> dict:
    response = await open_ticket(client, files, **fields)
    assert response.status_code == 201, response.text
    return response.json()


def disposition(header: str) -> tuple[str, str]:
    """(type, filename) of a Content-Disposition header, `filename="…"` or RFC 5987 `filename*=`."""
    kind, _, params = header.partition(";")
    quoted = re.search(r'filename="([^"]*)"', params)
    encoded = re.search(r"filename\*=utf-8''([^;\s]+)", params, re.IGNORECASE)
    name = unquote(encoded.group(1)) if encoded else quoted.group(1) if quoted else ""
    return kind.strip().lower(), name


def mentions_limit(detail: str, limit: int) -> bool:
    """The detail states the limit in some readable unit (not rounded down to nothing)."""
    kib = limit / 1024
    forms = [f"{limit} bytes", f"{limit} B", f"{kib:g} KB", f"{kib:g} KiB", f"{kib:.1f} KB", f"{kib:g}KB"]
    return any(form in detail for form in forms)


# Creating tickets with and without files


async def test_json_ticket_has_no_attachments(customer):
    response = await customer.post("/customer/tickets", json={"title": "No files"})
    assert response.status_code == 201, response.text
    assert response.json()["attachments"] == []


async def test_multipart_without_files_has_no_attachments(customer):
    body = await open_ok(customer, description="Just text", priority="high", category="billing")
    assert body["attachments"] == []
    assert body["source"] == "customer"
    assert body["status"] == "open"
    assert body["customer_id"] == ALICE
    assert body["title"] == "Printer on fire"
    assert body["description"] == "Just text"
    assert body["priority"] == "high"
    assert body["category"] == "billing"


async def test_one_file_is_listed_with_all_its_fields(customer):
    body = await open_ok(customer, [("screenshot.png", b"\x89PNG\r\n\x1a\nDATA", "image/png")])
    [attachment] = body["attachments"]
    assert set(attachment) == ATTACHMENT_KEYS
    assert isinstance(attachment["id"], int)
    assert attachment["filename"] == "screenshot.png"
    assert attachment["content_type"] == "image/png"
    assert attachment["size"] == 12
    created = datetime.fromisoformat(attachment["created_at"])
    assert created.utcoffset() == timedelta(0)
    assert stored_path(attachment["url"]).split("/")[0] == "attachments"


async def test_several_files_keep_their_order_and_metadata(customer):
    files = [
        ("a.txt", b"alpha", "text/plain"),
        ("b.log", b"bravo bravo", "text/plain"),
        ("c.json", b'{"c": 1}', "application/json"),
        ("d.bin", b"\x00\x01", "application/octet-stream"),
    ]
    body = await open_ok(customer, files)
    attachments = body["attachments"]
    assert [a["filename"] for a in attachments] == ["a.txt", "b.log", "c.json", "d.bin"]
    assert [a["size"] for a in attachments] == [5, 11, 8, 2]
    assert [a["content_type"] for a in attachments] == [f[2] for f in files]
    assert len({a["id"] for a in attachments}) == 4
    assert len({a["url"] for a in attachments}) == 4


async def test_attachments_appear_in_later_reads(customer, admin):
    body = await open_ok(customer, [("a.txt", b"alpha", "text/plain")])
    own = await customer.get(f"/customer/tickets/{body['id']}")
    staff = await admin.get(f"/admin/tickets/{body['id']}")
    assert own.json()["attachments"] == body["attachments"]
    assert staff.json()["attachments"] == body["attachments"]


# Downloads


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"plain text\n", id="text"),
        pytest.param(b"\x00\xff\x00\xfe binary \r\n\x00\xff", id="nul-and-ff"),
        pytest.param(bytes(range(256)) * 40, id="every-byte-value"),
        pytest.param(b"", id="empty-file"),
    ],
)
async def test_download_returns_the_exact_bytes(customer, anonymous, content):
    body = await open_ok(customer, [("data.bin", content, "application/octet-stream")])
    [attachment] = body["attachments"]
    assert attachment["size"] == len(content)
    download = await anonymous.get(attachment["url"])
    assert download.status_code == 200
    assert download.content == content


async def test_each_of_several_files_downloads_its_own_bytes(customer, anonymous):
    contents = [b"first", b"\x00second\xff", b"", b"fourth" * 1000]
    body = await open_ok(
        customer, [(f"f{i}.bin", c, "application/octet-stream") for i, c in enumerate(contents)]
    )
    for attachment, content in zip(body["attachments"], contents, strict=True):
        download = await anonymous.get(attachment["url"])
        assert download.status_code == 200
        assert download.content == content


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("report.pdf", "application/pdf"),
        ("quarterly report.pdf", "application/pdf"),
        ("résumé.txt", "text/plain"),
    ],
)
async def test_download_is_an_attachment_with_the_original_name(customer, anonymous, name, content_type):
    body = await open_ok(customer, [(name, b"%PDF-1.4", content_type)])
    download = await anonymous.get(body["attachments"][0]["url"])
    assert download.status_code == 200
    assert disposition(download.headers["content-disposition"]) == ("attachment", name)
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-type"].startswith(content_type)


async def test_uploaded_html_is_downloaded_never_rendered(customer, anonymous):
    page = b"<html><script>alert(document.cookie)</script></html>"
    body = await open_ok(customer, [("page.html", page, "text/html")])
    assert body["attachments"][0]["content_type"] == "text/html"
    download = await anonymous.get(body["attachments"][0]["url"])
    assert download.status_code == 200
    assert download.content == page
    assert disposition(download.headers["content-disposition"]) == ("attachment", "page.html")
    assert "inline" not in download.headers["content-disposition"]
    assert download.headers["x-content-type-options"] == "nosniff"


# Where and how files are stored


async def test_files_are_stored_under_todays_utc_date_with_random_names(customer, media_root):
    body = await open_ok(
        customer,
        [("invoice-2024.pdf", b"one", "application/pdf"), ("invoice-2024.pdf", b"two", "application/pdf")],
    )
    paths = [stored_path(a["url"]) for a in body["attachments"]]
    assert len(set(paths)) == 2, "the same client name never maps to the same stored file"
    for path, content in zip(paths, [b"one", b"two"], strict=True):
        folder, name = path.rsplit("/", 1)
        assert folder.removeprefix("attachments/") in utc_date_folders()
        assert "invoice" not in name
        assert ".pdf" not in name
        on_disk = media_root / path
        assert on_disk.is_file()
        assert on_disk.read_bytes() == content


@pytest.mark.parametrize(
    ("client_name", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("a\\b\\c.txt", "c.txt"),
        ("/absolute/path/evil.sh", "evil.sh"),
        ("..\\..\\windows\\win.ini", "win.ini"),
    ],
)
async def test_client_paths_in_file_names_are_neutralised(
    customer, anonymous, media_root, client_name, shown
):
    before = files_on_disk(media_root.parent)
    body = await open_ok(customer, [(client_name, b"payload", "text/plain")])
    [attachment] = body["attachments"]
    assert attachment["filename"] == shown

    new_files = files_on_disk(media_root.parent) - before
    assert len(new_files) == 1
    [new_file] = new_files
    assert new_file.resolve().is_relative_to((media_root / "attachments").resolve())
    assert new_file.read_bytes() == b"payload"
    assert media_root / stored_path(attachment["url"]) == new_file

    download = await anonymous.get(attachment["url"])
    assert download.content == b"payload"
    assert disposition(download.headers["content-disposition"]) == ("attachment", shown)


# Download paths that must not resolve to a file


async def raw_get(app: Litestar, path: str) -> tuple[int, bytes]:
    """Send a GET straight to the ASGI app, keeping `..` segments that httpx would normalise away."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
    }
    messages: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        messages.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return status, body


@pytest.fixture
def secret_outside_media(media_root: Path) -> Path:
    """A file next to the media root, which no download path may reach."""
    media_root.mkdir(parents=True, exist_ok=True)
    secret = media_root.parent / "tickets.sqlite"
    secret.write_bytes(b"TOP-SECRET-DATABASE")
    return secret


@pytest.mark.parametrize(
    "path",
    [
        "/media/attachments/../../etc/passwd",
        "/media/../tickets.sqlite",
        "/media/attachments/../../tickets.sqlite",
        "/media/attachments/%2e%2e/%2e%2e/tickets.sqlite",
        "/media/attachments/..%2f..%2ftickets.sqlite",
        "/media//etc/passwd",
        "/media/attachments//etc/passwd",
        "/media/attachments/nonexistent",
        "/media/attachments/2024/01/01/nonexistent",
        "/media/attachments",
        "/media/",
        "/media/tickets.sqlite",
    ],
)
async def test_paths_outside_known_attachments_are_404(app, secret_outside_media, path):
    status, body = await raw_get(app, path)
    assert status == 404, (path, body)
    assert b"TOP-SECRET" not in body
    assert json.loads(body)["status_code"] == 404


async def test_unknown_attachment_download_is_404_json(anonymous):
    response = await anonymous.get("/media/attachments/nonexistent")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


async def test_file_on_disk_without_a_row_is_not_served(anonymous, media_root):
    """Only files recorded as attachments are downloadable, not whatever lies in the folder."""
    stray = media_root / "attachments" / "2020" / "01" / "01" / "stray"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"not an attachment")
    response = await anonymous.get("/media/attachments/2020/01/01/stray")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


# Malformed multipart bodies


async def test_attachment_given_as_text_is_refused(customer, media_root):
    before = files_on_disk(media_root)
    response = await customer.post(
        "/customer/tickets",
        data={"title": "T", "attachments": "not a file"},
        files=[("attachments", ("real.txt", b"real", "text/plain"))],
    )
    assert response.status_code == 400, response.text
    assert response.json()["status_code"] == 400
    assert "attachments" in [e["key"] for e in response.json()["extra"]]
    assert await Ticket.count() == 0
    assert files_on_disk(media_root) == before


async def test_attachment_as_urlencoded_text_is_refused(customer):
    response = await customer.post("/customer/tickets", data={"title": "T", "attachments": "not a file"})
    assert response.status_code == 400, response.text
    assert "attachments" in [e["key"] for e in response.json()["extra"]]
    assert await Ticket.count() == 0


async def test_form_field_sent_as_a_file_is_refused(customer):
    response = await customer.post(
        "/customer/tickets", files=[("title", ("title.txt", b"Printer on fire", "text/plain"))]
    )
    assert response.status_code == 400, response.text
    assert response.json()["status_code"] == 400
    assert "title" in [e["key"] for e in response.json()["extra"]]
    assert await Ticket.count() == 0


async def test_invalid_fields_with_files_store_nothing(customer, media_root):
    before = files_on_disk(media_root)
    response = await open_ticket(customer, [("a.txt", b"a", "text/plain")], title="   ")
    assert response.status_code == 400, response.text
    assert "title" in [e["key"] for e in response.json()["extra"]]
    response = await open_ticket(customer, [("a.txt", b"a", "text/plain")], category="nope")
    assert response.status_code == 400, response.text
    assert await Ticket.count() == 0
    assert files_on_disk(media_root) == before


# Size and count limits (a second app with small limits, same database and media root)


@pytest.fixture(scope="module")
def small_app(app: Litestar) -> Litestar:
    from main import create_app

    settings = replace(
        app.state.settings,
        max_upload_bytes=SMALL_FILE_LIMIT,
        max_request_bytes=SMALL_REQUEST_LIMIT,
        max_upload_files=2,
    )
    return create_app(settings)


@pytest.fixture
async def small(small_app: Litestar) -> AsyncIterator:
    async with make_client(small_app, CUSTOMER_HEADERS) as client:
        yield client


async def test_file_over_the_limit_is_413_and_leaves_nothing(small, media_root):
    before = files_on_disk(media_root)
    response = await open_ticket(
        small, [("ok.txt", b"fine", "text/plain"), ("big-log.txt", b"x" * 2048, "text/plain")]
    )
    assert await Ticket.count() == 0
    assert await TicketAttachment.count() == 0
    assert files_on_disk(media_root) == before
    assert response.status_code == 413, response.text
    body = response.json()
    assert set(body) == {"status_code", "detail"}
    assert body["status_code"] == 413
    assert "big-log.txt" in body["detail"]
    assert mentions_limit(body["detail"], SMALL_FILE_LIMIT), body["detail"]


async def test_file_exactly_at_the_limit_is_accepted(small, anonymous):
    content = bytes(range(256)) * 4
    assert len(content) == SMALL_FILE_LIMIT
    body = await open_ok(small, [("exact.bin", content, "application/octet-stream")])
    [attachment] = body["attachments"]
    assert attachment["size"] == SMALL_FILE_LIMIT
    assert (await anonymous.get(attachment["url"])).content == content


async def test_as_many_files_as_allowed_are_accepted(small):
    body = await open_ok(small, [("a.txt", b"a", "text/plain"), ("b.txt", b"b", "text/plain")])
    assert len(body["attachments"]) == 2


async def test_too_many_files_is_400_and_leaves_nothing(small, media_root):
    before = files_on_disk(media_root)
    response = await open_ticket(small, [(f"{n}.txt", b"x", "text/plain") for n in range(3)])
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status_code"] == 400
    assert body["detail"].startswith("Too many attachments")
    assert "2" in body["detail"]
    assert await Ticket.count() == 0
    assert files_on_disk(media_root) == before


async def test_multipart_body_over_the_request_limit_is_413(small, media_root):
    before = files_on_disk(media_root)
    response = await open_ticket(small, [("huge.bin", b"x" * 20 * 1024, "application/octet-stream")])
    assert await Ticket.count() == 0
    assert files_on_disk(media_root) == before
    assert response.status_code == 413, response.text
    body = response.json()
    assert set(body) == {"status_code", "detail"}
    assert body["status_code"] == 413
    assert mentions_limit(body["detail"], SMALL_REQUEST_LIMIT), body["detail"]


async def test_json_body_over_the_request_limit_is_413(small):
    response = await small.post("/customer/tickets", json={"title": "T", "description": "x" * 20 * 1024})
    assert response.status_code == 413, response.text
    body = response.json()
    assert set(body) == {"status_code", "detail"}
    assert body["status_code"] == 413
    assert mentions_limit(body["detail"], SMALL_REQUEST_LIMIT), body["detail"]
    assert await Ticket.count() == 0


async def test_default_file_limit_is_stated_in_mb(customer, app, media_root):
    limit = app.state.settings.max_upload_bytes
    assert limit == 10 * 1024 * 1024
    before = files_on_disk(media_root)
    response = await open_ticket(customer, [("dump.bin", b"\0" * (limit + 1), "application/octet-stream")])
    assert response.status_code == 413, response.text
    body = response.json()
    assert body["status_code"] == 413
    assert "dump.bin" in body["detail"]
    assert "10 MB" in body["detail"]
    assert await Ticket.count() == 0
    assert files_on_disk(media_root) == before


async def test_default_request_limit_applies_to_multipart(customer, app):
    """Three files each under the 10 MB file limit, together over the 25 MB request limit."""
    assert app.state.settings.max_request_bytes == 25 * 1024 * 1024
    chunk = b"\0" * (9 * 1024 * 1024)
    response = await open_ticket(
        customer, [(f"{n}.bin", chunk, "application/octet-stream") for n in range(3)]
    )
    assert response.status_code == 413, response.text
    assert response.json() == {
        "status_code": 413,
        "detail": "Request body is too large; the limit is 25 MB",
    }
    assert await Ticket.count() == 0


# A failed database write leaves no files behind


async def test_files_are_removed_when_the_attachment_insert_fails(customer, media_root, monkeypatch):
    def broken_insert(*rows, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(TicketAttachment, "insert", broken_insert)
    before = files_on_disk(media_root)
    response = await open_ticket(
        customer, [("a.txt", b"alpha", "text/plain"), ("b.bin", b"\x00\xff", "application/octet-stream")]
    )
    assert response.status_code == 500, response.text
    assert response.json() == {"status_code": 500, "detail": "Internal server error"}
    assert files_on_disk(media_root) == before
    assert await Ticket.count() == 0


async def test_files_are_removed_when_recording_the_event_fails(customer, media_root, monkeypatch):
    """A failure after the attachment rows were written rolls everything back, files included."""
    from tickets.services import TicketService

    async def broken_record(self, *args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(TicketService, "_record", broken_record)
    before = files_on_disk(media_root)
    response = await open_ticket(customer, [("a.txt", b"alpha", "text/plain")])
    assert response.status_code == 500, response.text
    assert files_on_disk(media_root) == before
    assert await Ticket.count() == 0
    assert await TicketAttachment.count() == 0
