"""Partners, their API keys, remembered idempotent requests and the webhook outbox."""

from __future__ import annotations

from piccolo.columns import (
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.readable import Readable
from piccolo.table import Table

from partners.enums import DeliveryStatus, IdempotencyState, WebhookEvent


class Partner(Table):
    name = Varchar(length=100, unique=True)
    active = Boolean(default=True, help_text="Inactive partners' keys are all refused.")
    webhook_url = Varchar(
        length=500, null=True, default=None, help_text="Where ticket events are POSTed (http or https)."
    )
    webhook_secret = Varchar(
        length=200,
        null=True,
        default=None,
        help_text="Signs webhooks (HMAC-SHA256); share it with the partner.",
    )
    allowed_ips = Text(
        default="", help_text="Comma-separated IP addresses or networks (CIDR); empty allows any source."
    )
    rate_limit_per_minute = Integer(
        null=True, default=None, help_text="Requests per minute for all its keys; empty uses the default."
    )
    created_at = Timestamptz(default=TimestamptzNow())

    @classmethod
    def get_readable(cls) -> Readable:
        return Readable(template="%s", columns=[cls.name])


class PartnerKey(Table):
    """An API key, kept only as a keyed hash; the clear key is shown once when issued."""

    partner = ForeignKey(Partner, on_delete=OnDelete.cascade, null=False, index=True)
    label = Varchar(length=100, default="")
    prefix = Varchar(length=20, index=True, help_text="The key's first characters, to find and show it.")
    digest = Varchar(
        length=64, unique=True, help_text="HMAC-SHA256 of the key; the key itself is not stored."
    )
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)

    @classmethod
    def get_readable(cls) -> Readable:
        return Readable(template="%s…", columns=[cls.prefix])


class IdempotencyRecord(Table):
    """The first response to an Idempotency-Key, replayed to retries with the same body."""

    scope = Varchar(length=300, help_text="partner:<id> or customer:<e-mail>")
    key = Varchar(length=255)
    request_hash = Varchar(length=64)
    state = Varchar(length=20, choices=IdempotencyState, default=IdempotencyState.in_flight)
    response_status = SmallInt(null=True, default=None)
    response_body = Text(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(index=True)


class WebhookDelivery(Table):
    """The outbox: one event for one partner, written with the change, delivered by the worker."""

    event_id = Varchar(length=36, unique=True)
    partner = ForeignKey(Partner, on_delete=OnDelete.cascade, null=False, index=True)
    ticket_id = Integer(index=True)
    event_type = Varchar(length=40, choices=WebhookEvent)
    payload = Text(help_text="The exact JSON body that is signed and sent.")
    status = Varchar(length=20, choices=DeliveryStatus, default=DeliveryStatus.pending, index=True)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow(), index=True)
    give_up_at = Timestamptz(help_text="Retries stop here and the delivery is marked failed.")
    locked_until = Timestamptz(
        null=True, default=None, help_text="A worker's claim; expired claims are retried."
    )
    claim_token = Varchar(length=32, null=True, default=None)
    last_status_code = Integer(null=True, default=None)
    last_error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    delivered_at = Timestamptz(null=True, default=None)
