"""Webhook events: chosen from a ticket's change, written to the outbox in the change's
transaction, and signed when sent.

Signature: hex HMAC-SHA256 of `f"{timestamp}.{body}"` with the partner's webhook
secret, sent as `X-Webhook-Signature: sha256=<hex>` with `X-Webhook-Timestamp`
(Unix seconds) and `X-Webhook-Id` (the event id, the same on every retry).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

import msgspec

from core.settings import Settings
from partners.enums import DeliveryStatus, WebhookEvent
from partners.tables import Partner, WebhookDelivery
from tickets import queries
from tickets.enums import EventKind, Role
from tickets.schemas import TicketOut
from tickets.tables import Comment, Ticket, utc_now

SIGNATURE_HEADER = "X-Webhook-Signature"
TIMESTAMP_HEADER = "X-Webhook-Timestamp"
ID_HEADER = "X-Webhook-Id"


class WebhookComment(msgspec.Struct, kw_only=True):
    id: int
    author: str
    message: str
    created_at: datetime


class WebhookPayload(msgspec.Struct, kw_only=True):
    id: str
    type: WebhookEvent
    occurred_at: datetime
    ticket: TicketOut
    changes: dict[str, list[Any]]
    comment: WebhookComment | None = None


def new_webhook_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def signed_headers(secret: str, event_id: str, timestamp: str, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        TIMESTAMP_HEADER: timestamp,
        ID_HEADER: event_id,
        "User-Agent": "helpdesk-webhooks/1",
    }


def events_for(kind: EventKind, role: str, changes: dict[str, Any]) -> list[WebhookEvent]:
    """What a partner hears about: status changes, assignments and agents' comments."""
    events = []
    if "status" in changes and kind in (EventKind.updated, EventKind.closed):
        events.append(WebhookEvent.status_changed)
    if "assigned_to" in changes:
        events.append(WebhookEvent.assigned)
    if kind is EventKind.commented and role == Role.admin:
        events.append(WebhookEvent.commented)
    return events


async def enqueue_ticket_events(
    settings: Settings, ticket_id: int, kind: EventKind, role: str, changes: dict[str, Any]
) -> None:
    """Called inside the change's transaction: the outbox rows commit (or roll back) with it."""
    events = events_for(kind, role, changes)
    if not events:
        return
    target = (
        await Ticket.select(Ticket.partner.id.as_alias("partner_id"))
        .where(
            Ticket.id == ticket_id, Ticket.partner.webhook_url.is_not_null(), Ticket.partner.webhook_url != ""
        )
        .first()
    )
    if target is None:
        return
    ticket = msgspec.convert(await queries.find_ticket(ticket_id), TicketOut)
    comment = await _comment(changes) if WebhookEvent.commented in events else None
    now = utc_now()
    rows = []
    for event in events:
        event_id = str(uuid.uuid4())
        relevant = {k: v for k, v in changes.items() if k != "comment_id"}
        payload = WebhookPayload(
            id=event_id, type=event, occurred_at=now, ticket=ticket, changes=relevant, comment=comment
        )
        rows.append(
            WebhookDelivery(
                event_id=event_id,
                partner=target["partner_id"],
                ticket_id=ticket_id,
                event_type=event,
                payload=msgspec.json.encode(payload).decode(),
                status=DeliveryStatus.pending,
                next_attempt_at=now,
                give_up_at=now + timedelta(seconds=settings.webhook_give_up_seconds),
                created_at=now,
            )
        )
    await WebhookDelivery.insert(*rows)


async def _comment(changes: dict[str, Any]) -> WebhookComment | None:
    comment_id = changes.get("comment_id", [None, None])[1]
    row = (
        await Comment.select(Comment.id, Comment.author, Comment.message, Comment.created_at)
        .where(Comment.id == comment_id)
        .first()
    )
    return msgspec.convert(row, WebhookComment) if row else None


async def redeliver(settings: Settings, delivery_id: int) -> bool:
    """Queue a delivery again now, with a fresh retry window (not while a worker holds it)."""
    now = utc_now()
    queued = (
        await WebhookDelivery.update(
            {
                WebhookDelivery.status: DeliveryStatus.pending,
                WebhookDelivery.next_attempt_at: now,
                WebhookDelivery.give_up_at: now + timedelta(seconds=settings.webhook_give_up_seconds),
                WebhookDelivery.locked_until: None,
                WebhookDelivery.claim_token: None,
            }
        )
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status != DeliveryStatus.delivering)
        .returning(WebhookDelivery.id)
    )
    return bool(queued)


async def partner_webhook(partner_id: int) -> dict[str, Any] | None:
    return (
        await Partner.select(Partner.webhook_url, Partner.webhook_secret, Partner.active)
        .where(Partner.id == partner_id)
        .first()
    )
