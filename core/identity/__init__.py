"""Who is calling: the one place identity is resolved; endpoints only ever see a `Caller`.

A bearer token is always honoured. Without one, `AUTH_MODE=simulate` believes the
X-ROLE/X-USER headers (development, old clients); `AUTH_MODE=token` accepts only
the staff UI's session cookie and otherwise answers 401.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from core.errors import Forbidden, Unauthorized
from core.identity.caller import EMAIL_MAX_LENGTH, EMAIL_PATTERN, Caller, Role, is_email
from core.identity.session import caller_from_session
from core.identity.simulation import simulated_caller
from core.identity.tokens import bearer_token, caller_from_token, invalid_token

__all__ = [
    "EMAIL_MAX_LENGTH",
    "EMAIL_PATTERN",
    "Caller",
    "Role",
    "is_email",
    "provide_caller",
    "requires_role",
    "resolve_caller",
]


async def _authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> Caller:
    settings = connection.app.state.settings
    simulate = settings.auth.simulates_roles
    authorization = connection.headers.get("authorization")
    if authorization is not None:
        token = bearer_token(authorization)
        if token:
            return caller_from_token(settings, token)
        if not simulate:  # another scheme, or "Bearer" with nothing after it
            raise invalid_token()
    if simulate:
        return simulated_caller(connection)
    caller = await caller_from_session(connection)
    if caller is None:
        raise Unauthorized("Authentication required. Send Authorization: Bearer <token>")
    return caller


async def resolve_caller(connection: ASGIConnection[Any, Any, Any, Any]) -> Caller:
    """The caller, resolved once per request (the guard and the handler both ask)."""
    cached = connection.scope.get("state", {}).get("caller")
    if cached is not None:
        return cached
    caller = await _authenticate(connection)
    connection.state.caller = caller
    return caller


def requires_role(role: Role):
    """Guard: a proven identity (else 400 or 401, by mode) with the given role (else 403)."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if (await resolve_caller(connection)).role is not role:
            raise Forbidden(f"Requires role={role.value}")

    return guard


async def provide_caller(request: ASGIConnection[Any, Any, Any, Any]) -> Caller:
    return await resolve_caller(request)
