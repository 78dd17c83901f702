"""Reads: tickets as API objects, in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import msgspec
from piccolo.columns.combination import WhereRaw
from piccolo.query.methods.select import Count

from core.pagination import PageRequest
from tickets.enums import Priority, Source, Status
from tickets.schemas import (
    AttachmentOut,
    CategoryOut,
    ExternalTicketReceipt,
    TicketDetail,
    TicketOut,
    TicketStats,
)
from tickets.tables import Category, Comment, Ticket, TicketAttachment

MAX_ID = 2**31 - 1  # ids are 32-bit serials; anything larger cannot exist

TICKET_COLUMNS = (
    Ticket.id,
    Ticket.source,
    Ticket.external_ref,
    Ticket.title,
    Ticket.description,
    Ticket.priority,
    Ticket.status,
    Ticket.category.name.as_alias("category"),
    Ticket.customer_id,
    Ticket.assigned_to,
    Ticket.created_at,
    Ticket.updated_at,
)

_SEARCHED = ("title", "description", "external_ref", "customer_id", "assigned_to")
_SEARCH_SQL = (
    "("
    + " OR ".join(
        f"lower(coalesce(\"ticket\".\"{column}\", '')) LIKE {{}} ESCAPE '\\'" for column in _SEARCHED
    )
    + ")"
)

MediaUrl = Callable[[str], str]


def owned_by(email: str) -> WhereRaw:
    """Tickets whose customer is this e-mail, in any letter case (served by an expression index)."""
    return WhereRaw('lower("ticket"."customer_id") = {}', email.lower())


def text_search(q: str) -> WhereRaw:
    """Case-insensitive substring match over the searchable columns; % and _ match literally."""
    escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return WhereRaw(_SEARCH_SQL, *([pattern] * len(_SEARCHED)))


def valid_id(ticket_id: int) -> bool:
    return 1 <= ticket_id <= MAX_ID


async def count_tickets(where: Sequence[Any]) -> int:
    return await Ticket.count().where(*where)


async def list_tickets(where: Sequence[Any], page: PageRequest) -> list[TicketOut]:
    rows = (
        await Ticket.select(*TICKET_COLUMNS)
        .where(*where)
        .order_by(Ticket.created_at, Ticket.id, ascending=False)
        .limit(page.size)
        .offset(page.offset)
    )
    return msgspec.convert(rows, list[TicketOut])


async def find_ticket(ticket_id: int, where: Sequence[Any] = ()) -> dict[str, Any] | None:
    if not valid_id(ticket_id):
        return None
    return await Ticket.select(*TICKET_COLUMNS).where(Ticket.id == ticket_id, *where).first()


async def ticket_detail(row: dict[str, Any], media_url: MediaUrl) -> TicketDetail:
    ticket_id = row["id"]
    comments = (
        await Comment.select(
            Comment.id,
            Comment.ticket.as_alias("ticket_id"),
            Comment.author,
            Comment.role,
            Comment.message,
            Comment.created_at,
        )
        .where(Comment.ticket == ticket_id)
        .order_by(Comment.created_at, Comment.id)
    )
    files = (
        await TicketAttachment.select()
        .where(TicketAttachment.ticket == ticket_id)
        .order_by(TicketAttachment.id)
    )
    attachments = [
        AttachmentOut(
            id=f["id"],
            url=media_url(f["file"]),
            filename=f["original_name"],
            content_type=f["content_type"],
            size=f["size"],
            created_at=f["created_at"],
        )
        for f in files
    ]
    return msgspec.convert(
        {**row, "comments": comments, "attachments": attachments}, TicketDetail, from_attributes=True
    )


async def find_partner_ticket(partner_id: int, external_ref: str) -> int | None:
    row = (
        await Ticket.select(Ticket.id)
        .where(Ticket.partner == partner_id, Ticket.external_ref == external_ref)
        .first()
    )
    return row["id"] if row else None


async def external_receipt(ticket_id: int, media_url: MediaUrl) -> ExternalTicketReceipt:
    ticket = await Ticket.select(Ticket.external_ref, Ticket.status).where(Ticket.id == ticket_id).first()
    files = (
        await TicketAttachment.select(TicketAttachment.file)
        .where(TicketAttachment.ticket == ticket_id)
        .order_by(TicketAttachment.id)
    )
    return ExternalTicketReceipt(
        ticket_id=ticket_id,
        external_ref=ticket["external_ref"],
        status=ticket["status"],
        attachments=[media_url(f["file"]) for f in files],
    )


async def category_names() -> list[str]:
    rows = await Category.select(Category.name).order_by(Category.name)
    return [r["name"] for r in rows]


async def _counts(column: Any) -> dict[Any, int]:
    rows = await Ticket.select(column.as_alias("key"), Count(alias="n")).group_by(column)
    return {r["key"]: r["n"] for r in rows}


async def ticket_stats() -> TicketStats:
    by_status = await _counts(Ticket.status)
    by_priority = await _counts(Ticket.priority)
    by_source = await _counts(Ticket.source)
    by_category_id = await _counts(Ticket.category)
    categories = await Category.select(Category.id, Category.name).order_by(Category.id)
    return TicketStats(
        by_status={s.value: by_status.get(s.value, 0) for s in Status},
        by_priority={p.value: by_priority.get(p.value, 0) for p in Priority},
        by_source={s.value: by_source.get(s.value, 0) for s in Source},
        by_category={c["name"]: by_category_id.get(c["id"], 0) for c in categories},
    )


async def list_categories() -> list[CategoryOut]:
    rows = await Category.select(Category.id, Category.name).order_by(Category.id)
    return msgspec.convert(rows, list[CategoryOut])


async def find_attachment(relative: str) -> dict[str, Any] | None:
    return (
        await TicketAttachment.select(TicketAttachment.original_name, TicketAttachment.content_type)
        .where(TicketAttachment.file == relative)
        .first()
    )
