"""Staff pages outside Piccolo Admin sign in with the admin's own session cookie."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from piccolo.apps.user.tables import BaseUser
from piccolo_api.session_auth.tables import SessionsBase

SESSION_COOKIE = "id"  # Piccolo Admin's session cookie


async def signed_in_staff(connection: ASGIConnection[Any, Any, Any, Any]) -> BaseUser | None:
    """The active staff user whose unexpired session the cookie names, else None."""
    token = connection.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    user_id = await SessionsBase.get_user_id(token)
    if user_id is None:
        return None
    return (
        await BaseUser.objects()
        .where(BaseUser.id == user_id, BaseUser.active.eq(True), BaseUser.admin.eq(True))
        .first()
    )
