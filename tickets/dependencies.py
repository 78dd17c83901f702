"""What the tickets controllers are handed through dependency injection."""

from __future__ import annotations

from typing import Any

from litestar import Request

from tickets.services import TicketService


def media_url_for(request: Request[Any, Any, Any]):
    base = str(request.base_url).rstrip("/")
    return lambda path: f"{base}/media/{path}"


async def provide_ticket_service(request: Request[Any, Any, Any]) -> TicketService:
    state = request.app.state
    return TicketService(engine=state.engine, store=state.attachment_store, media_url=media_url_for(request))
