"""Who is calling: the one place identity is resolved (role simulation for now).

Swapping in real authentication means replacing `resolve_caller`; the
endpoints only ever see a `Caller`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from core.errors import BadRequest, Forbidden

EMAIL_PATTERN = r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$"
EMAIL_MAX_LENGTH = 254
_EMAIL_RE = re.compile(EMAIL_PATTERN)


class Role(StrEnum):
    customer = "customer"
    admin = "admin"


@dataclass(frozen=True, slots=True)
class Caller:
    role: Role
    email: str


def is_email(value: str) -> bool:
    return len(value) <= EMAIL_MAX_LENGTH and _EMAIL_RE.match(value) is not None


def _pick(connection: ASGIConnection[Any, Any, Any, Any], header: str, query: str) -> str | None:
    value = connection.headers.get(header)
    if value is None:
        value = connection.query_params.get(query)
    return value


def resolve_caller(connection: ASGIConnection[Any, Any, Any, Any]) -> Caller:
    """Role and e-mail from `X-ROLE`/`X-USER`, else `?role=`/`?user=`; headers win."""
    cached = connection.scope.get("state", {}).get("caller")
    if cached is not None:
        return cached
    raw_role = (_pick(connection, "x-role", "role") or "").strip().lower()
    if raw_role not in Role.__members__:
        raise BadRequest("Missing/invalid role. Use X-ROLE: customer|admin")
    user = (_pick(connection, "x-user", "user") or "").strip()
    if not user:
        raise BadRequest("Missing user. Use X-USER: <email>")
    if not is_email(user):
        raise BadRequest("Invalid user. X-USER must be an e-mail address")
    caller = Caller(role=Role(raw_role), email=user)
    connection.state.caller = caller
    return caller


def requires_role(role: Role):
    """Guard: a valid identity (else 400) with the given role (else 403)."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if resolve_caller(connection).role is not role:
            raise Forbidden(f"Requires role={role.value}")

    return guard


async def provide_caller(request: ASGIConnection[Any, Any, Any, Any]) -> Caller:
    return resolve_caller(request)
