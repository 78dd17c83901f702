"""Guards and dependencies the partner and customer endpoints share: who the partner is,
how fast a caller may go, and the Idempotency-Key store."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from core.errors import Forbidden
from core.identity import resolve_caller
from partners.idempotency import Idempotency
from partners.keys import AuthenticatedPartner, authenticate
from partners.ratelimit import enforce

PARTNER_STATE_KEY = "partner"


async def requires_partner_key(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A valid key of an active partner from an allowed address (else the contract's 403), within its rate."""
    settings = connection.app.state.settings
    client_ip = connection.client.host if connection.client else None
    partner = await authenticate(settings, connection.headers.get("x-api-key"), client_ip)
    if partner is None:
        raise Forbidden("Invalid or missing X-API-KEY")
    connection.state[PARTNER_STATE_KEY] = partner
    connection.state.caller_role = "partner"  # for the access log
    await enforce(connection, f"partner:{partner.id}", partner.rate_limit or settings.partner_rate_limit)


async def limit_customer_rate(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Runs after the role guard, so the identity is valid; e-mails count case-insensitively."""
    caller = await resolve_caller(connection)
    limit = connection.app.state.settings.customer_rate_limit
    await enforce(connection, f"customer:{caller.email.lower()}", limit)


async def provide_partner(request: Request[Any, Any, Any]) -> AuthenticatedPartner:
    return request.state[PARTNER_STATE_KEY]


async def provide_idempotency(request: Request[Any, Any, Any]) -> Idempotency:
    return request.app.state.idempotency
