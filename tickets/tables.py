"""Tickets, their comments, attachments and history, and the categories they belong to."""

from __future__ import annotations

from datetime import UTC, datetime

from piccolo.columns import (
    JSON,
    BigInt,
    ForeignKey,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.readable import Readable
from piccolo.table import Table

from partners.tables import Partner
from tickets.enums import EventKind, Priority, Role, Source, Status


def utc_now() -> datetime:
    return datetime.now(UTC)


class Category(Table):
    name = Varchar(length=50, unique=True, help_text="Shown to customers in the category dropdown.")

    @classmethod
    def get_readable(cls) -> Readable:
        return Readable(template="%s", columns=[cls.name])


class Ticket(Table):
    source = Varchar(length=20, choices=Source, default=Source.customer, index=True)
    external_ref = Varchar(
        length=120, null=True, default=None, index=True, help_text="The partner's own reference."
    )
    title = Varchar(length=200)
    description = Text(default="")
    priority = Varchar(length=10, choices=Priority, default=Priority.medium, index=True)
    status = Varchar(length=20, choices=Status, default=Status.open, index=True)
    category = ForeignKey(Category, on_delete=OnDelete.restrict, null=False, index=True)
    customer_id = Varchar(length=254, null=True, default=None, index=True, help_text="Customer e-mail.")
    assigned_to = Varchar(length=254, null=True, default=None, index=True, help_text="Agent e-mail.")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=utc_now)
    partner = ForeignKey(
        Partner,
        on_delete=OnDelete.restrict,
        null=True,
        default=None,
        index=True,
        help_text="The partner that sent it; with external_ref unique per partner.",
    )

    @classmethod
    def get_readable(cls) -> Readable:
        return Readable(template="#%s %s", columns=[cls.id, cls.title])


class Comment(Table):
    ticket = ForeignKey(Ticket, on_delete=OnDelete.cascade, null=False, index=True)
    author = Varchar(length=254)
    role = Varchar(length=20, choices=Role)
    message = Text()
    created_at = Timestamptz(default=TimestamptzNow())


class TicketAttachment(Table):
    ticket = ForeignKey(Ticket, on_delete=OnDelete.cascade, null=False, index=True)
    file = Varchar(length=255, unique=True, help_text="Path under MEDIA_ROOT; the name is random.")
    original_name = Varchar(length=255, default="")
    content_type = Varchar(length=100, default="application/octet-stream")
    size = BigInt(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class TicketEvent(Table):
    """What changed on a ticket, by whom, written in the same transaction as the change."""

    ticket = ForeignKey(Ticket, on_delete=OnDelete.cascade, null=False, index=True)
    kind = Varchar(length=20, choices=EventKind)
    actor = Varchar(length=254)
    role = Varchar(length=20)
    changes = JSON(default={})
    created_at = Timestamptz(default=TimestamptzNow())
