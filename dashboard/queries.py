"""What the staff dashboard shows. The counts come from `ticket_stats`, the same code
behind `GET /admin/tickets/stats`, so the two can never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from piccolo.query.methods.select import Count

from tickets.enums import Priority, Status
from tickets.queries import ticket_stats
from tickets.schemas import TicketStats
from tickets.tables import Ticket, utc_now

DAYS = 30
OLDEST_UNASSIGNED = 10


@dataclass(frozen=True)
class WaitingTicket:
    id: int
    title: str
    priority: str
    customer_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class QueueOverview:
    stats: TicketStats
    open_by_priority: dict[str, int]
    created_per_day: list[tuple[date, int]]
    oldest_unassigned: list[WaitingTicket]
    generated_at: datetime


async def open_by_priority() -> dict[str, int]:
    rows = (
        await Ticket.select(Ticket.priority.as_alias("key"), Count(alias="n"))
        .where(Ticket.status == Status.open)
        .group_by(Ticket.priority)
    )
    found = {r["key"]: r["n"] for r in rows}
    return {p.value: found.get(p.value, 0) for p in Priority}


async def created_per_day(today: date, days: int = DAYS) -> list[tuple[date, int]]:
    """Tickets created on each of the last `days` days (UTC), today included, zeros too.

    Grouped in Python: a date of a timestamp is spelled differently on SQLite and
    PostgreSQL, and a month of creation times is small.
    """
    first = today - timedelta(days=days - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=utc_now().tzinfo)
    counts = {first + timedelta(days=n): 0 for n in range(days)}
    for row in await Ticket.select(Ticket.created_at).where(Ticket.created_at >= since):
        day = row["created_at"].astimezone(since.tzinfo).date()
        if day in counts:
            counts[day] += 1
    return list(counts.items())


async def oldest_unassigned(limit: int = OLDEST_UNASSIGNED) -> list[WaitingTicket]:
    rows = (
        await Ticket.select(Ticket.id, Ticket.title, Ticket.priority, Ticket.customer_id, Ticket.created_at)
        .where(Ticket.status == Status.open, Ticket.assigned_to.is_null())
        .order_by(Ticket.created_at, Ticket.id)
        .limit(limit)
    )
    return [WaitingTicket(**row) for row in rows]


async def queue_overview() -> QueueOverview:
    now = utc_now()
    return QueueOverview(
        stats=await ticket_stats(),
        open_by_priority=await open_by_priority(),
        created_per_day=await created_per_day(now.date()),
        oldest_unassigned=await oldest_unassigned(),
        generated_at=now,
    )
