"""Role simulation, as in the prototype: the caller says who it is (development and old clients)."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

from core.errors import BadRequest
from core.identity.caller import Caller, Role, is_email


def _pick(connection: ASGIConnection[Any, Any, Any, Any], header: str, query: str) -> str | None:
    value = connection.headers.get(header)
    if value is None:
        value = connection.query_params.get(query)
    return value


def simulated_caller(connection: ASGIConnection[Any, Any, Any, Any]) -> Caller:
    """Role and e-mail from `X-ROLE`/`X-USER`, else `?role=`/`?user=`; headers win."""
    raw_role = (_pick(connection, "x-role", "role") or "").strip().lower()
    if raw_role not in Role.__members__:
        raise BadRequest("Missing/invalid role. Use X-ROLE: customer|admin")
    user = (_pick(connection, "x-user", "user") or "").strip()
    if not user:
        raise BadRequest("Missing user. Use X-USER: <email>")
    if not is_email(user):
        raise BadRequest("Invalid user. X-USER must be an e-mail address")
    return Caller(role=Role(raw_role), email=user)
