"""Idempotency-Key on the partner and customer create endpoints."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from partners.idempotency import purge_expired
from partners.tables import IdempotencyRecord
from tests.conftest import ALICE, BOB
from tests.partners.helpers import client_for, partner_with_key
from tickets.tables import Ticket, utc_now


def body(ref: str = "EXT-1", **overrides) -> dict:
    return {"external_ref": ref, "title": "Printer on fire", **overrides}


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


async def test_same_key_and_body_replays_the_first_response(partner):
    first = await partner.post("/external/tickets", json=body(), headers=key("k-1"))
    again = await partner.post("/external/tickets", json=body(), headers=key("k-1"))
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert await Ticket.count() == 1


async def test_same_key_with_another_body_is_a_422(partner):
    assert (await partner.post("/external/tickets", json=body(), headers=key("k-2"))).status_code == 201
    response = await partner.post("/external/tickets", json=body("EXT-2"), headers=key("k-2"))
    assert response.status_code == 422
    assert response.json()["status_code"] == 422
    assert "different request" in response.json()["detail"]
    assert await Ticket.count() == 1


async def test_concurrent_requests_with_one_key_run_once(partner):
    responses = await asyncio.gather(
        *(partner.post("/external/tickets", json=body(), headers=key("same")) for _ in range(20))
    )
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {201, 409}, [r.text for r in responses]
    fresh = [r for r in responses if r.status_code == 201 and "idempotent-replayed" not in r.headers]
    assert len(fresh) == 1
    for r in responses:
        if r.status_code == 409:
            assert "in progress" in r.json()["detail"]
        else:
            assert r.content == fresh[0].content
    assert await Ticket.count() == 1


async def test_in_flight_conflict_is_a_409(partner):
    """A key still claimed (no response stored yet) answers 409 to a retry with the same body."""
    first = await partner.post("/external/tickets", json=body(), headers=key("held"))
    assert first.status_code == 201
    await IdempotencyRecord.update({IdempotencyRecord.state: "in_flight"}).where(
        IdempotencyRecord.key == "held"
    )
    response = await partner.post("/external/tickets", json=body(), headers=key("held"))
    assert response.status_code == 409
    assert (
        response.json()["detail"] == "A request with this Idempotency-Key is still in progress; retry later"
    )


async def test_a_stale_in_flight_claim_is_taken_over(partner):
    assert (await partner.post("/external/tickets", json=body(), headers=key("dead"))).status_code == 201
    await IdempotencyRecord.update(
        {IdempotencyRecord.state: "in_flight", IdempotencyRecord.created_at: utc_now() - timedelta(hours=1)}
    ).where(IdempotencyRecord.key == "dead")
    response = await partner.post("/external/tickets", json=body(), headers=key("dead"))
    assert response.status_code == 200  # ran again: the ticket exists, so the receipt of the duplicate
    assert await Ticket.count() == 1


async def test_keys_are_scoped_per_partner(app, partner):
    _, other_key = await partner_with_key(name="other")
    async with client_for(app, other_key) as other:
        mine = await partner.post("/external/tickets", json=body(), headers=key("shared"))
        theirs = await other.post("/external/tickets", json=body(), headers=key("shared"))
    assert mine.status_code == theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert await Ticket.count() == 2


async def test_a_refused_request_does_not_use_up_the_key(partner):
    bad = await partner.post("/external/tickets", json=body(title=" "), headers=key("fix-me"))
    assert bad.status_code == 400
    bad_category = await partner.post("/external/tickets", json=body(category="nope"), headers=key("fix-me"))
    assert bad_category.status_code == 400
    good = await partner.post("/external/tickets", json=body(), headers=key("fix-me"))
    assert good.status_code == 201
    assert "idempotent-replayed" not in good.headers


async def test_multipart_bodies_compare_by_fields_and_file_bytes(partner):
    fields = {"external_ref": "EXT-5", "title": "Logs"}
    first = await partner.post(
        "/external/tickets",
        data=fields,
        files={"attachments": ("a.log", b"one", "text/plain")},
        headers=key("mp"),
    )
    same = await partner.post(
        "/external/tickets",
        data=fields,
        files={"attachments": ("a.log", b"one", "text/plain")},
        headers=key("mp"),
    )
    other_bytes = await partner.post(
        "/external/tickets",
        data=fields,
        files={"attachments": ("a.log", b"two", "text/plain")},
        headers=key("mp"),
    )
    assert first.status_code == 201
    assert same.status_code == 201 and same.headers["idempotent-replayed"] == "true"
    assert same.content == first.content
    assert other_bytes.status_code == 422


async def test_expired_keys_are_purged_and_can_be_used_again(partner):
    assert (await partner.post("/external/tickets", json=body(), headers=key("old"))).status_code == 201
    await IdempotencyRecord.update({IdempotencyRecord.expires_at: utc_now() - timedelta(seconds=1)}).where(
        IdempotencyRecord.key == "old"
    )
    assert await purge_expired() == 1
    assert await IdempotencyRecord.count() == 0
    reused = await partner.post("/external/tickets", json=body("EXT-9"), headers=key("old"))
    assert reused.status_code == 201
    assert "idempotent-replayed" not in reused.headers


async def test_an_expired_key_is_free_even_before_the_purge(partner):
    assert (await partner.post("/external/tickets", json=body(), headers=key("stale"))).status_code == 201
    await IdempotencyRecord.update({IdempotencyRecord.expires_at: utc_now() - timedelta(seconds=1)}).where(
        IdempotencyRecord.key == "stale"
    )
    response = await partner.post("/external/tickets", json=body("EXT-3"), headers=key("stale"))
    assert response.status_code == 201
    assert "idempotent-replayed" not in response.headers


async def test_invalid_keys_are_a_400(partner):
    response = await partner.post("/external/tickets", json=body(), headers=key("k" * 256))
    assert response.status_code == 400
    assert await Ticket.count() == 0


# The customer endpoint


async def test_customer_create_replays_per_customer(customer, other_customer):
    ticket = {"title": "Refund"}
    first = await customer.post("/customer/tickets", json=ticket, headers=key("c-1"))
    again = await customer.post("/customer/tickets", json=ticket, headers=key("c-1"))
    bobs = await other_customer.post("/customer/tickets", json=ticket, headers=key("c-1"))
    assert first.status_code == again.status_code == bobs.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert "idempotent-replayed" not in bobs.headers
    assert bobs.json()["customer_id"] == BOB
    assert first.json()["customer_id"] == ALICE
    assert await Ticket.count() == 2


async def test_customer_key_with_another_body_is_a_422(customer):
    assert (
        await customer.post("/customer/tickets", json={"title": "A"}, headers=key("c-2"))
    ).status_code == 201
    response = await customer.post("/customer/tickets", json={"title": "B"}, headers=key("c-2"))
    assert response.status_code == 422
    assert await Ticket.count() == 1


async def test_concurrent_customer_creates_with_one_key_make_one_ticket(customer):
    responses = await asyncio.gather(
        *(customer.post("/customer/tickets", json={"title": "Once"}, headers=key("c-3")) for _ in range(15))
    )
    assert {r.status_code for r in responses} <= {201, 409}
    assert await Ticket.count() == 1


async def test_without_a_key_every_customer_post_creates(customer):
    for _ in range(2):
        assert (await customer.post("/customer/tickets", json={"title": "Twice"})).status_code == 201
    assert await Ticket.count() == 2
