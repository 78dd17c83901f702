"""Partner systems push tickets in with a shared API key."""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Controller, Request, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from litestar.params import HeaderParameter

from core.bodies import read_body
from core.errors import Forbidden
from core.openapi import body_operation, error_responses
from tickets.schemas import ExternalTicketCreate, ExternalTicketReceipt
from tickets.services import TicketService


def requires_partner_key(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """The exact configured key, compared as keyed digests in constant time."""
    settings = connection.app.state.settings
    given = connection.headers.get("x-api-key")
    if given is None or not hmac.compare_digest(
        settings.digest_secret(given), settings.external_api_key_digest
    ):
        raise Forbidden("Invalid or missing X-API-KEY")
    connection.state.caller_role = "partner"


class ExternalTicketController(Controller):
    path = "/external/tickets"
    tags = ["external"]
    guards = [requires_partner_key]
    parameters = {
        "x_api_key": HeaderParameter(
            name="X-API-KEY", annotation=str | None, required=False, description="The partner API key."
        )
    }

    @post(
        "/",
        operation_id="ingestExternalTicket",
        responses=error_responses(400, 403, 413, 415),
        summary="Ingest a partner ticket (JSON, or multipart with `attachments` files)",
        operation_class=body_operation(ExternalTicketCreate, with_files=True),
    )
    async def ingest_ticket(
        self, request: Request[Any, Any, Any], tickets: NamedDependency[TicketService]
    ) -> ExternalTicketReceipt:
        data, files = await read_body(request, ExternalTicketCreate)
        return await tickets.ingest_external(data, files)
