"""Staff pages outside Piccolo Admin sign in with the admin's own session cookie."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from piccolo.apps.user.tables import BaseUser

from core.identity.session import session_user_id


async def signed_in_staff(connection: ASGIConnection[Any, Any, Any, Any]) -> BaseUser | None:
    """The active staff user whose unexpired session the cookie names, else None."""
    user_id = await session_user_id(connection)
    if user_id is None:
        return None
    return (
        await BaseUser.objects()
        .where(BaseUser.id == user_id, BaseUser.active.eq(True), BaseUser.admin.eq(True))
        .first()
    )
