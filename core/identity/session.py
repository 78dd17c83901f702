"""The staff UI's session cookie also signs agents in to the admin JSON API.

The cookie is sent by browsers on their own, so writes must also prove they come
from the staff UI's pages: the `csrftoken` cookie echoed in `X-CSRFToken`, as
Piccolo Admin itself requires.
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from piccolo.apps.user.tables import BaseUser
from piccolo_api.session_auth.tables import SessionsBase

from core.errors import Forbidden
from core.identity.caller import Caller, Role, is_email

SESSION_COOKIE = "id"
CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "x-csrftoken"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def check_csrf(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    cookie = connection.cookies.get(CSRF_COOKIE, "")
    header = connection.headers.get(CSRF_HEADER, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), header.encode()):
        raise Forbidden("CSRF check failed. Send the csrftoken cookie's value in X-CSRFToken")


async def session_user_id(connection: ASGIConnection[Any, Any, Any, Any]) -> int | None:
    """The user id of the unexpired staff UI session the cookie names, else None."""
    token = connection.cookies.get(SESSION_COOKIE)
    return await SessionsBase.get_user_id(token) if token else None


async def active_staff_email(user_id: int) -> str | None:
    """The e-mail of an active staff user (admin flag set), else None."""
    user = (
        await BaseUser.select(BaseUser.email, BaseUser.active, BaseUser.admin)
        .where(BaseUser.id == user_id)
        .first()
    )
    if not user or not user["active"] or not user["admin"] or not is_email(user["email"] or ""):
        return None
    return user["email"]


async def caller_from_session(connection: ASGIConnection[Any, Any, Any, Any]) -> Caller | None:
    """An active staff user's session, or None; a write without the CSRF echo is a 403."""
    user_id = await session_user_id(connection)
    email = await active_staff_email(user_id) if user_id is not None else None
    if email is None:
        return None
    if connection.scope.get("method", "GET") not in SAFE_METHODS:
        check_csrf(connection)
    return Caller(role=Role.admin, email=email)
