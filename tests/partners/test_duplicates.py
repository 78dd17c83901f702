"""One ticket per (partner, external_ref), enforced by the database, also under concurrency."""

from __future__ import annotations

import asyncio

from tests.partners.helpers import client_for, partner_with_key
from tickets.tables import Ticket, TicketAttachment

RECEIPT_KEYS = {"ticket_id", "external_ref", "status", "attachments"}


def body(ref: str = "EXT-7", **overrides) -> dict:
    return {"external_ref": ref, "title": "Disk full", **overrides}


async def test_resending_an_external_ref_returns_the_existing_ticket(partner, admin):
    first = await partner.post("/external/tickets", json=body())
    again = await partner.post("/external/tickets", json=body(title="Changed title"))
    assert first.status_code == 201, first.text
    assert again.status_code == 200, again.text
    assert set(again.json()) == RECEIPT_KEYS
    assert again.json() == first.json()
    assert await Ticket.count() == 1
    assert (await admin.get(f"/admin/tickets/{first.json()['ticket_id']}")).json()["title"] == "Disk full"


async def test_the_resent_receipt_shows_the_current_status(partner, admin):
    first = (await partner.post("/external/tickets", json=body())).json()
    await admin.put(f"/admin/tickets/{first['ticket_id']}", json={"status": "in_progress"})
    again = await partner.post("/external/tickets", json=body())
    assert again.status_code == 200
    assert again.json() == {**first, "status": "in_progress"}


async def test_refs_are_unique_per_partner_not_globally(app, partner):
    _, key = await partner_with_key(name="other")
    async with client_for(app, key) as other:
        mine = await partner.post("/external/tickets", json=body())
        theirs = await other.post("/external/tickets", json=body())
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["ticket_id"] != theirs.json()["ticket_id"]
    assert await Ticket.count() == 2


async def test_fifty_simultaneous_identical_posts_make_one_ticket(app):
    _, key = await partner_with_key()
    async with client_for(app, key) as client:
        responses = await asyncio.gather(*(client.post("/external/tickets", json=body()) for _ in range(50)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 49 + [201], [r.text for r in responses if r.status_code not in (200, 201)]
    assert len({r.json()["ticket_id"] for r in responses}) == 1
    assert all(set(r.json()) == RECEIPT_KEYS for r in responses)
    assert await Ticket.count() == 1


async def test_simultaneous_posts_with_files_leave_only_the_winners_files(app, media_root):
    _, key = await partner_with_key()
    before = {p for p in media_root.rglob("*") if p.is_file()} if media_root.exists() else set()

    async def send(client):
        files = {"attachments": ("log.txt", b"the log", "text/plain")}
        return await client.post("/external/tickets", data=body(), files=files)

    async with client_for(app, key) as client:
        responses = await asyncio.gather(*(send(client) for _ in range(20)))
    assert sorted(r.status_code for r in responses) == [200] * 19 + [201]
    assert len({tuple(r.json()["attachments"]) for r in responses}) == 1
    after = {p for p in media_root.rglob("*") if p.is_file()}
    assert len(after - before) == 1
    assert await TicketAttachment.count() == 1


async def test_the_database_refuses_a_second_ticket_with_the_same_partner_and_ref(app):
    from core.db import is_unique_violation
    from tickets.tables import Category

    partner_id, _ = await partner_with_key()
    category = (await Category.select(Category.id).first())["id"]

    def row():
        return Ticket(
            title="T", category=category, external_ref="SAME", partner=partner_id, source="external"
        )

    await Ticket.insert(row())
    try:
        await Ticket.insert(row())
    except Exception as error:
        assert is_unique_violation(error), error
    else:
        raise AssertionError("the unique index let a duplicate in")
    # without a partner (customer tickets) refs do not clash
    await Ticket.insert(Ticket(title="T", category=category, external_ref="SAME"))
    await Ticket.insert(Ticket(title="T", category=category, external_ref="SAME"))


async def test_a_lost_race_answers_with_the_winner_and_removes_its_files(app, media_root, monkeypatch):
    """The pre-check is only a shortcut: when it misses a ticket, the unique index decides."""
    from tickets import queries

    _, key = await partner_with_key()
    async with client_for(app, key) as client:
        first = await client.post("/external/tickets", json=body())
        files_before = {p for p in media_root.rglob("*") if p.is_file()} if media_root.exists() else set()
        real = queries.find_partner_ticket
        calls = []

        async def misses_once(partner_id, ref):
            calls.append(ref)
            return None if len(calls) == 1 else await real(partner_id, ref)

        monkeypatch.setattr(queries, "find_partner_ticket", misses_once)
        again = await client.post(
            "/external/tickets", data=body(), files={"attachments": ("late.txt", b"late", "text/plain")}
        )
    assert len(calls) == 2
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert {p for p in media_root.rglob("*") if p.is_file()} == files_before
    assert await Ticket.count() == 1
