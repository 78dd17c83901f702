"""Webhooks: outbox rows written with the change, delivered signed to a real HTTP receiver,
retried with backoff after errors and timeouts, given up, redelivered, and never lost
across a worker restart or shared between concurrent workers."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest

from main import create_app
from partners.enums import DeliveryStatus
from partners.tables import Partner, WebhookDelivery
from partners.webhooks import redeliver
from partners.worker import WebhookWorker
from tests.partners.helpers import Receiver, client_for, partner_with_key, running_receiver, settings_with
from tickets.tables import utc_now

SECRET = "whsec_test-secret"


def fast_settings(**changes):
    values = dict(
        webhook_timeout_seconds=0.5,
        webhook_poll_seconds=0.02,
        webhook_retry_base_seconds=0.01,
        webhook_retry_max_seconds=0.05,
    )
    values.update(changes)
    return settings_with(**values)


def worker_for(app, **changes) -> WebhookWorker:
    return WebhookWorker(fast_settings(**changes), app.state.engine)


@pytest.fixture
async def receiver():
    async with running_receiver() as running:
        yield running


@pytest.fixture
async def hooked(app, receiver: Receiver):
    """A partner with a webhook URL and a client using its key."""
    partner_id, key = await partner_with_key(name="hooked", webhook_url=receiver.url, webhook_secret=SECRET)
    async with client_for(app, key) as client:
        created = await client.post("/external/tickets", json={"external_ref": "W-1", "title": "Webhook me"})
        assert created.status_code == 201, created.text
        yield {"partner_id": partner_id, "ticket_id": created.json()["ticket_id"], "client": client}


async def deliveries() -> list[dict]:
    return await WebhookDelivery.select().order_by(WebhookDelivery.id)


async def eventually(check, within: float = 15.0) -> None:
    """Poll until `check()` (sync or async) is true; generous, so a loaded machine does not fail it."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result or time.monotonic() > deadline:
            return
        await asyncio.sleep(0.02)


async def status_of_first() -> str:
    return (await deliveries())[0]["status"]


async def status_of_first_is(status: str) -> bool:
    return await status_of_first() == status


async def run_until(worker: WebhookWorker, status: str, within: float = 15.0) -> None:
    """Run the worker's passes until the first delivery has `status`."""

    async def reached() -> bool:
        await worker.run_once()
        return await status_of_first() == status

    await eventually(reached, within)


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a partner's receiver does (the README shows the same)."""
    timestamp = headers["x-webhook-timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(timestamp)) < 300
    return fresh and hmac.compare_digest(headers["x-webhook-signature"], f"sha256={expected}")


# What is written to the outbox


async def test_status_change_is_written_to_the_outbox_with_the_change(admin, hooked):
    assert await deliveries() == []
    response = await admin.put(f"/admin/tickets/{hooked['ticket_id']}", json={"status": "in_progress"})
    assert response.status_code == 200
    rows = await deliveries()
    assert [(r["event_type"], r["status"], r["attempts"]) for r in rows] == [
        ("ticket.status_changed", "pending", 0)
    ]
    payload = json.loads(rows[0]["payload"])
    assert set(payload) >= {"id", "type", "occurred_at", "ticket"}
    assert payload["id"] == rows[0]["event_id"]
    assert payload["ticket"]["id"] == hooked["ticket_id"]
    assert payload["ticket"]["status"] == "in_progress"
    assert payload["changes"] == {"status": ["open", "in_progress"]}


async def test_assignment_and_admin_comment_are_events_customer_comments_are_not(admin, customer, hooked):
    ticket_id = hooked["ticket_id"]
    await admin.put(
        f"/admin/tickets/{ticket_id}", json={"assigned_to": "agent@example.com", "priority": "high"}
    )
    await admin.post(f"/admin/tickets/{ticket_id}/comments", json={"message": "Looking into it"})
    rows = await deliveries()
    assert [r["event_type"] for r in rows] == ["ticket.assigned", "ticket.commented"]
    comment = json.loads(rows[1]["payload"])["comment"]
    assert comment["message"] == "Looking into it"
    assert comment["author"] == "agent@example.com"


async def test_a_failed_change_writes_no_event(admin, hooked):
    response = await admin.put(
        f"/admin/tickets/{hooked['ticket_id']}", json={"status": "resolved", "category": "nope"}
    )
    assert response.status_code == 400
    assert await deliveries() == []


async def test_tickets_of_partners_without_a_webhook_make_no_events(admin, partner):
    created = await partner.post("/external/tickets", json={"external_ref": "N-1", "title": "No hook"})
    await admin.put(f"/admin/tickets/{created.json()['ticket_id']}", json={"status": "resolved"})
    assert await deliveries() == []


# Delivery


async def test_delivery_is_signed_and_marked_delivered(app, admin, hooked, receiver):
    await admin.put(f"/admin/tickets/{hooked['ticket_id']}", json={"status": "resolved"})
    assert await worker_for(app).run_once() == 1
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    row = (await deliveries())[0]
    assert request.body == row["payload"].encode()
    assert request.headers["x-webhook-id"] == row["event_id"]
    assert request.headers["content-type"] == "application/json"
    assert verify(SECRET, request.headers, request.body)
    assert not verify("another-secret", request.headers, request.body)
    assert not verify(SECRET, request.headers, request.body + b" ")
    assert row["status"] == DeliveryStatus.delivered
    assert row["attempts"] == 1
    assert row["last_status_code"] == 200
    assert row["delivered_at"] is not None


async def test_a_500_is_retried_with_backoff_then_delivered(app, admin, hooked, receiver):
    receiver.plan = [(500, 0.0), (503, 0.0)]
    await admin.put(f"/admin/tickets/{hooked['ticket_id']}", json={"status": "resolved"})
    worker = worker_for(app, webhook_retry_base_seconds=1.0, webhook_retry_max_seconds=10)
    await worker.run_once()
    row = (await deliveries())[0]
    assert (row["status"], row["attempts"], row["last_status_code"], row["last_error"]) == (
        "pending",
        1,
        500,
        "HTTP 500",
    )
    assert row["next_attempt_at"] > utc_now()
    assert await worker.run_once() == 0  # not due yet: the backoff holds
    await asyncio.sleep(1.05)
    await worker.run_once()
    second = (await deliveries())[0]
    assert (second["attempts"], second["last_status_code"]) == (2, 503)
    assert second["next_attempt_at"] > utc_now()  # how the waits grow: test_backoff_doubles_...
    await asyncio.sleep(2.05)
    await worker.run_once()
    final = (await deliveries())[0]
    assert (final["status"], final["attempts"]) == ("delivered", 3)
    assert len({r.headers["x-webhook-id"] for r in receiver.requests}) == 1
    assert len(receiver.requests) == 3


async def test_a_timeout_is_retried(app, admin, hooked, receiver):
    receiver.plan = [(200, 1.0)]
    await admin.put(f"/admin/tickets/{hooked['ticket_id']}", json={"status": "resolved"})
    worker = worker_for(app, webhook_timeout_seconds=0.2)
    await worker.run_once()
    row = (await deliveries())[0]
    assert row["status"] == "pending"
    assert row["last_error"].startswith("Timed out after 0.2 s")
    assert row["last_status_code"] is None
    await run_until(worker, "delivered")
    assert (await deliveries())[0]["status"] == "delivered"


async def test_an_unreachable_receiver_is_retried(app, admin, hooked, receiver):
    await Partner.update({Partner.webhook_url: "http://127.0.0.1:9/closed"}).where(
        Partner.id == hooked["partner_id"]
    )
    await admin.put(f"/admin/tickets/{hooked['ticket_id']}", json={"status": "resolved"})
    await worker_for(app).run_once()
    row = (await deliveries())[0]
    assert row["status"] == "pending"
    assert "ConnectError" in row["last_error"]


async def test_gives_up_after_the_retry_window_then_staff_redeliver(app, admin, hooked, receiver):
    receiver.plan = [(500, 0.0)] * 100
    await admin.put(f"/admin/tickets/{hooked['ticket_id']}", json={"status": "resolved"})
    worker = worker_for(app)
    await WebhookDelivery.update({WebhookDelivery.give_up_at: utc_now() + timedelta(seconds=1)}, force=True)
    await run_until(worker, "failed")
    row = (await deliveries())[0]
    assert row["status"] == "failed"
    assert row["last_status_code"] == 500
    attempts = row["attempts"]
    assert attempts >= 2

    receiver.plan = []
    assert await redeliver(fast_settings(), row["id"])
    await run_until(worker, "delivered")
    again = (await deliveries())[0]
    assert again["status"] == "delivered"
    assert again["attempts"] == attempts + 1
    assert receiver.requests[-1].headers["x-webhook-id"] == row["event_id"]


async def test_staff_redeliver_form_queues_a_delivered_event_again(app, admin, hooked, receiver):
    from partners.admin import RedeliverForm, redeliver_action

    await admin.put(f"/admin/tickets/{hooked['ticket_id']}", json={"status": "resolved"})
    worker = worker_for(app)
    await worker.run_once()
    row = (await deliveries())[0]
    message = await redeliver_action(None, RedeliverForm(delivery_id=row["id"]))
    assert "queued" in message
    await worker.run_once()
    assert len(receiver.requests) == 2
    with pytest.raises(ValueError):
        await redeliver_action(None, RedeliverForm(delivery_id=999999))


async def test_an_inactive_partner_is_not_sent_to(app, admin, hooked, receiver):
    await admin.put(f"/admin/tickets/{hooked['ticket_id']}", json={"status": "resolved"})
    await Partner.update({Partner.active: False}).where(Partner.id == hooked["partner_id"])
    await worker_for(app).run_once()
    row = (await deliveries())[0]
    assert row["status"] == "failed"
    assert receiver.requests == []


# Restarts and several workers


async def test_restart_mid_retry_loses_nothing(app, admin, hooked, receiver):
    receiver.plan = [(500, 0.0)]
    await admin.put(f"/admin/tickets/{hooked['ticket_id']}", json={"status": "resolved"})
    first = worker_for(app, webhook_retry_base_seconds=0.5)
    await first.start()
    await eventually(lambda: receiver.requests)
    await first.stop()
    assert not first.running
    row = (await deliveries())[0]
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("pending", 1, 500)

    second = worker_for(app, webhook_retry_base_seconds=0.5)  # a new process: all it has is the database
    await second.start()
    await eventually(lambda: status_of_first_is("delivered"))
    await second.stop()
    final = (await deliveries())[0]
    assert (final["status"], final["attempts"]) == ("delivered", 2)
    assert [r.headers["x-webhook-id"] for r in receiver.requests] == [row["event_id"]] * 2


async def test_a_claim_left_by_a_dead_worker_is_taken_over_after_its_lease(app, admin, hooked, receiver):
    await admin.put(f"/admin/tickets/{hooked['ticket_id']}", json={"status": "resolved"})
    dead = worker_for(app)
    claimed = await dead._claim("dead-worker-token")  # claimed, then the process died
    assert len(claimed) == 1
    assert await worker_for(app).run_once() == 0  # the lease still holds
    await WebhookDelivery.update({WebhookDelivery.locked_until: utc_now() - timedelta(seconds=1)}, force=True)
    assert await worker_for(app).run_once() == 1
    assert (await deliveries())[0]["status"] == "delivered"
    assert len(receiver.requests) == 1


async def test_concurrent_workers_send_each_event_once(app, admin, hooked, receiver):
    client = hooked["client"]
    for i in range(12):
        created = await client.post("/external/tickets", json={"external_ref": f"M-{i}", "title": "Many"})
        await admin.put(f"/admin/tickets/{created.json()['ticket_id']}", json={"status": "resolved"})
    workers = [worker_for(app) for _ in range(4)]
    await asyncio.gather(*(w.run_once() for w in workers), *(w.run_once() for w in workers))
    await workers[0].run_once()
    rows = await deliveries()
    assert len(rows) == 12
    assert all(r["status"] == "delivered" and r["attempts"] == 1 for r in rows)
    ids = [r.headers["x-webhook-id"] for r in receiver.requests]
    assert sorted(ids) == sorted(r["event_id"] for r in rows)


async def test_the_app_starts_and_stops_its_worker(app, admin, hooked, receiver):
    other = create_app(fast_settings(webhook_worker_enabled=True))
    hooks = {hook.__name__: hook for hook in (*other.on_startup, *other.on_shutdown)}
    await hooks["start_webhook_worker"](other)
    worker = other.state.webhook_worker
    assert worker.running
    await admin.put(f"/admin/tickets/{hooked['ticket_id']}", json={"status": "resolved"})
    await eventually(lambda: receiver.requests)
    await hooks["stop_webhook_worker"](other)
    assert not worker.running
    assert len(receiver.requests) == 1
    assert (await deliveries())[0]["status"] == "delivered"


async def test_a_receiver_url_that_cannot_be_used_is_retried_not_stuck(app, admin, hooked):
    await Partner.update({Partner.webhook_url: "ftp://127.0.0.1/nope"}).where(
        Partner.id == hooked["partner_id"]
    )
    await admin.put(f"/admin/tickets/{hooked['ticket_id']}", json={"status": "resolved"})
    await worker_for(app).run_once()
    row = (await deliveries())[0]
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert "UnsupportedProtocol" in row["last_error"]


async def test_the_running_worker_purges_expired_idempotency_keys(app):
    from partners.tables import IdempotencyRecord

    now = utc_now()
    for key, expires in (("expired", now - timedelta(seconds=1)), ("live", now + timedelta(hours=1))):
        await IdempotencyRecord.insert(
            IdempotencyRecord(
                scope="partner:1", key=key, request_hash="h", created_at=now, expires_at=expires
            )
        )
    worker = worker_for(app)
    await worker.start()

    async def purged() -> bool:
        return not await IdempotencyRecord.exists().where(IdempotencyRecord.key == "expired")

    await eventually(purged)
    await worker.stop()
    assert [r["key"] for r in await IdempotencyRecord.select(IdempotencyRecord.key)] == ["live"]


@pytest.mark.parametrize("attempts", [1, 2, 3, 10, 5000])
def test_backoff_doubles_with_jitter_and_is_capped(attempts):
    from partners.worker import backoff

    settings = fast_settings(webhook_retry_base_seconds=10, webhook_retry_max_seconds=100)
    step = min(10 * 2 ** min(attempts - 1, 40), 100)
    delays = [backoff(settings, attempts) for _ in range(50)]
    assert all(step * 0.5 <= d <= step for d in delays)
    assert len(set(delays)) > 1
