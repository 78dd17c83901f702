"""POST /external/tickets: partner systems push tickets in with the shared X-API-KEY."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import PARTNER_KEY
from tickets.tables import Ticket

FORBIDDEN = {"status_code": 403, "detail": "Invalid or missing X-API-KEY"}
RECEIPT_KEYS = {"ticket_id", "external_ref", "status", "attachments"}
URL = re.compile(r"^http://testserver/media/attachments/(\d{4})/(\d{2})/(\d{2})/([A-Za-z0-9_-]{16,})$")


def partner_ticket(**overrides):
    body = {
        "external_ref": "EXT-123",
        "title": "Partner system alert",
        "description": "Something broke",
        "priority": "high",
        "category": "technical",
        "customer_id": "alice@example.com",
    }
    body.update(overrides)
    return body


def without(body, key):
    return {k: v for k, v in body.items() if k != key}


def multipart(fields: dict[str, str]) -> tuple[bytes, str]:
    """A multipart/form-data body with text fields only (httpx would send those urlencoded)."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    body = "".join(parts) + f"--{boundary}--\r\n"
    return body.encode(), f"multipart/form-data; boundary={boundary}"


def utc_dates_around_now() -> set[tuple[str, str, str]]:
    """Today's UTC date (and its neighbour, so a request around midnight does not flake)."""
    now = datetime.now(UTC)
    return {
        (d.strftime("%Y"), d.strftime("%m"), d.strftime("%d"))
        for d in (now - timedelta(minutes=1), now, now + timedelta(minutes=1))
    }


async def ticket_count() -> int:
    return await Ticket.count()


async def stored(admin, ticket_id: int) -> dict:
    response = await admin.get(f"/admin/tickets/{ticket_id}")
    assert response.status_code == 200, response.text
    return response.json()


def assert_field_error(response, key: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status_code"] == 400
    assert body["detail"]
    assert key in [item["key"] for item in body["extra"]], body


# Creating a ticket with JSON


async def test_json_ingest_returns_receipt_with_exactly_the_contract_keys(partner):
    response = await partner.post("/external/tickets", json=partner_ticket())
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == RECEIPT_KEYS
    assert isinstance(body["ticket_id"], int)
    assert body == {
        "ticket_id": body["ticket_id"],
        "external_ref": "EXT-123",
        "status": "open",
        "attachments": [],
    }


async def test_json_ingest_stores_an_open_external_ticket(partner, admin):
    response = await partner.post("/external/tickets", json=partner_ticket(external_ref="  EXT-9  "))
    assert response.status_code == 201, response.text
    assert response.json()["external_ref"] == "EXT-9"

    ticket = await stored(admin, response.json()["ticket_id"])
    assert ticket["source"] == "external"
    assert ticket["status"] == "open"
    assert ticket["external_ref"] == "EXT-9"
    assert ticket["title"] == "Partner system alert"
    assert ticket["description"] == "Something broke"
    assert ticket["priority"] == "high"
    assert ticket["category"] == "technical"
    assert ticket["customer_id"] == "alice@example.com"
    assert ticket["assigned_to"] is None
    assert ticket["attachments"] == []
    assert ticket["comments"] == []


async def test_json_ingest_defaults_category_priority_and_description(partner, admin):
    body = {"external_ref": "EXT-1", "title": "Minimal"}
    response = await partner.post("/external/tickets", json=body)
    assert response.status_code == 201, response.text

    ticket = await stored(admin, response.json()["ticket_id"])
    assert ticket["category"] == "general"
    assert ticket["priority"] == "medium"
    assert ticket["description"] == ""
    assert ticket["customer_id"] is None


async def test_customer_id_may_be_null(partner, admin):
    response = await partner.post("/external/tickets", json=partner_ticket(customer_id=None))
    assert response.status_code == 201, response.text
    ticket = await stored(admin, response.json()["ticket_id"])
    assert ticket["customer_id"] is None


async def test_no_role_headers_are_needed(anonymous):
    """The API key alone identifies a partner; X-ROLE / X-USER are not asked for."""
    response = await anonymous.post(
        "/external/tickets", json=partner_ticket(), headers={"X-API-KEY": PARTNER_KEY}
    )
    assert response.status_code == 201, response.text


# The API key


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("wrong-key", id="wrong"),
        pytest.param(PARTNER_KEY[:-1], id="prefix"),
        pytest.param(PARTNER_KEY[:3], id="short-prefix"),
        pytest.param(PARTNER_KEY + " ", id="trailing-space"),
        pytest.param(" " + PARTNER_KEY, id="leading-space"),
        pytest.param(PARTNER_KEY + "x", id="extended"),
        pytest.param("", id="empty"),
        pytest.param(PARTNER_KEY.upper(), id="upper-case"),
        pytest.param(PARTNER_KEY.title(), id="title-case"),
        pytest.param(PARTNER_KEY[0].upper() + PARTNER_KEY[1:], id="first-letter-upper"),
    ],
)
async def test_any_other_key_is_forbidden_and_creates_nothing(anonymous, key):
    response = await anonymous.post("/external/tickets", json=partner_ticket(), headers={"X-API-KEY": key})
    assert response.status_code == 403, response.text
    assert response.json() == FORBIDDEN
    assert await ticket_count() == 0


async def test_missing_key_is_forbidden_and_creates_nothing(anonymous):
    response = await anonymous.post("/external/tickets", json=partner_ticket())
    assert response.status_code == 403, response.text
    assert response.json() == FORBIDDEN
    assert await ticket_count() == 0


async def test_role_headers_do_not_replace_the_key(admin):
    response = await admin.post("/external/tickets", json=partner_ticket())
    assert response.status_code == 403, response.text
    assert response.json() == FORBIDDEN
    assert await ticket_count() == 0


async def test_key_is_checked_before_the_body(anonymous):
    """A caller without the key learns nothing about validation."""
    response = await anonymous.post("/external/tickets", json={"title": ""}, headers={"X-API-KEY": "nope"})
    assert response.status_code == 403, response.text
    assert response.json() == FORBIDDEN


@pytest.mark.parametrize("header", ["x-api-key", "X-Api-Key", "X-API-KEY"])
async def test_header_name_is_case_insensitive(anonymous, header):
    response = await anonymous.post("/external/tickets", json=partner_ticket(), headers={header: PARTNER_KEY})
    assert response.status_code == 201, response.text
    assert await ticket_count() == 1


# Validation


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(without(partner_ticket(), "external_ref"), id="missing"),
        pytest.param(partner_ticket(external_ref=""), id="empty"),
        pytest.param(partner_ticket(external_ref="   "), id="blank"),
        pytest.param(partner_ticket(external_ref=None), id="null"),
        pytest.param(partner_ticket(external_ref=123), id="number"),
    ],
)
async def test_external_ref_is_required_and_not_blank(partner, body):
    response = await partner.post("/external/tickets", json=body)
    assert_field_error(response, "external_ref")
    assert await ticket_count() == 0


async def test_external_ref_at_most_120_characters(partner, admin):
    too_long = await partner.post("/external/tickets", json=partner_ticket(external_ref="R" * 121))
    assert_field_error(too_long, "external_ref")
    assert await ticket_count() == 0

    at_limit = await partner.post("/external/tickets", json=partner_ticket(external_ref="R" * 120))
    assert at_limit.status_code == 201, at_limit.text
    assert (await stored(admin, at_limit.json()["ticket_id"]))["external_ref"] == "R" * 120


@pytest.mark.parametrize("customer_id", ["not-an-email", "alice@", "@example.com", "a b@example.com", ""])
async def test_customer_id_must_be_an_email(partner, customer_id):
    response = await partner.post("/external/tickets", json=partner_ticket(customer_id=customer_id))
    assert_field_error(response, "customer_id")
    assert await ticket_count() == 0


async def test_unknown_category_lists_the_valid_names(partner):
    response = await partner.post("/external/tickets", json=partner_ticket(category="hardware"))
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status_code"] == 400
    for name in ("billing", "technical", "general"):
        assert name in body["detail"]
    assert "hardware" in body["detail"]
    assert [item["key"] for item in body["extra"]] == ["category"]
    assert await ticket_count() == 0


@pytest.mark.parametrize("priority", ["urgent", "HIGH", "", 3, None])
async def test_invalid_priority_is_refused(partner, priority):
    response = await partner.post("/external/tickets", json=partner_ticket(priority=priority))
    assert_field_error(response, "priority")
    assert await ticket_count() == 0


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(without(partner_ticket(), "title"), id="missing"),
        pytest.param(partner_ticket(title="   "), id="blank"),
        pytest.param(partner_ticket(title="T" * 201), id="too-long"),
    ],
)
async def test_title_is_validated_as_for_customers(partner, body):
    response = await partner.post("/external/tickets", json=body)
    assert_field_error(response, "title")
    assert await ticket_count() == 0


# Multipart, with attachments


async def assert_receipt_urls_download(client, urls: list[str], contents: list[bytes]) -> None:
    dates = utc_dates_around_now()
    assert len(urls) == len(contents)
    names = set()
    for url, content in zip(urls, contents, strict=True):
        match = URL.match(url)
        assert match, url
        assert match.group(1, 2, 3) in dates
        names.add(match.group(4))
        download = await client.get(url)
        assert download.status_code == 200, url
        assert download.content == content
    assert len(names) == len(urls), "every stored file gets its own random name"


async def test_multipart_without_files(partner, admin):
    content, content_type = multipart(partner_ticket())
    response = await partner.post(
        "/external/tickets", content=content, headers={"Content-Type": content_type}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == RECEIPT_KEYS
    assert body["status"] == "open"
    assert body["external_ref"] == "EXT-123"
    assert body["attachments"] == []

    ticket = await stored(admin, body["ticket_id"])
    assert ticket["source"] == "external"
    assert ticket["category"] == "technical"
    assert ticket["priority"] == "high"
    assert ticket["customer_id"] == "alice@example.com"


async def test_multipart_with_one_file(partner, anonymous, admin):
    data = b"2024-01-01 ERROR disk full\n"
    response = await partner.post(
        "/external/tickets",
        data=partner_ticket(),
        files={"attachments": ("log.txt", data, "text/plain")},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == RECEIPT_KEYS
    assert body["status"] == "open"
    await assert_receipt_urls_download(anonymous, body["attachments"], [data])

    ticket = await stored(admin, body["ticket_id"])
    assert [a["url"] for a in ticket["attachments"]] == body["attachments"]


async def test_multipart_with_three_files(partner, anonymous, admin):
    contents = [b"first log", bytes(range(256)) * 4, b"\x89PNG\r\n\x1a\n\x00\x00\xff"]
    files = [
        ("attachments", ("one.log", contents[0], "text/plain")),
        ("attachments", ("two.bin", contents[1], "application/octet-stream")),
        ("attachments", ("three.png", contents[2], "image/png")),
    ]
    response = await partner.post("/external/tickets", data=partner_ticket(), files=files)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == RECEIPT_KEYS
    await assert_receipt_urls_download(anonymous, body["attachments"], contents)

    ticket = await stored(admin, body["ticket_id"])
    assert [a["url"] for a in ticket["attachments"]] == body["attachments"]
    assert [a["filename"] for a in ticket["attachments"]] == ["one.log", "two.bin", "three.png"]


async def test_multipart_empty_optional_fields_mean_not_given(partner, admin):
    fields = partner_ticket(customer_id="", description="", priority="", category="")
    response = await partner.post(
        "/external/tickets", data=fields, files={"attachments": ("a.txt", b"a", "text/plain")}
    )
    assert response.status_code == 201, response.text
    ticket = await stored(admin, response.json()["ticket_id"])
    assert ticket["customer_id"] is None
    assert ticket["description"] == ""
    assert ticket["priority"] == "medium"
    assert ticket["category"] == "general"


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ({"external_ref": "  "}, "external_ref"),
        ({"customer_id": "nobody"}, "customer_id"),
        ({"priority": "urgent"}, "priority"),
    ],
)
async def test_multipart_fields_are_validated(partner, media_root, override, key):
    before = set(media_root.rglob("*")) if media_root.exists() else set()
    response = await partner.post(
        "/external/tickets",
        data=partner_ticket(**override),
        files={"attachments": ("a.txt", b"a", "text/plain")},
    )
    assert_field_error(response, key)
    assert await ticket_count() == 0
    after = set(media_root.rglob("*")) if media_root.exists() else set()
    assert after - before == set()


async def test_multipart_with_a_wrong_key_stores_no_file(anonymous, media_root):
    before = set(media_root.rglob("*")) if media_root.exists() else set()
    response = await anonymous.post(
        "/external/tickets",
        data=partner_ticket(),
        files={"attachments": ("a.txt", b"secret", "text/plain")},
        headers={"X-API-KEY": "wrong"},
    )
    assert response.status_code == 403, response.text
    assert response.json() == FORBIDDEN
    after = set(media_root.rglob("*")) if media_root.exists() else set()
    assert after == before
    assert await ticket_count() == 0
