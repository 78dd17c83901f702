"""What the tickets controllers are handed through dependency injection."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.params import FromQuery

from tickets.enums import Priority, Source, Status
from tickets.services import TicketFilters, TicketService


def media_url_for(request: Request[Any, Any, Any]):
    base = str(request.base_url).rstrip("/")
    return lambda path: f"{base}/media/{path}"


async def provide_ticket_service(request: Request[Any, Any, Any]) -> TicketService:
    state = request.app.state
    return TicketService(
        engine=state.engine,
        store=state.attachment_store,
        media_url=media_url_for(request),
        settings=state.settings,
    )


async def provide_ticket_filters(
    status: FromQuery[Status | None] = None,
    priority: FromQuery[Priority | None] = None,
    category: FromQuery[str | None] = None,
    assigned_to: FromQuery[str | None] = None,
    source: FromQuery[Source | None] = None,
    q: FromQuery[str | None] = None,
) -> TicketFilters:
    """The admin list's filters: exact matches (enums validated), and `q`, a text search."""
    return TicketFilters(status, priority, category, assigned_to, source, q)
