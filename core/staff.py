"""The staff UI (Piccolo Admin), built once and mounted under /staff/."""

from __future__ import annotations

import secrets
from datetime import timedelta

from litestar import asgi
from litestar.handlers import ASGIRouteHandler
from litestar.types import Receive, Scope, Send
from piccolo.apps.user.tables import BaseUser
from piccolo_admin.endpoints import create_admin

from core.settings import Settings
from partners.admin import FORM_CONFIGS as PARTNER_FORMS
from partners.admin import TABLE_CONFIGS as PARTNER_TABLES
from tickets.admin import TABLE_CONFIGS

FIRST_STAFF_USERNAME = "admin"


def staff_mount(settings: Settings) -> ASGIRouteHandler:
    """Built once: a per-request build costs ~86 ms and resets the login rate limiter."""
    admin = create_admin(
        tables=[*TABLE_CONFIGS, *PARTNER_TABLES],
        forms=PARTNER_FORMS,
        site_name="Helpdesk staff",
        production=settings.is_production,
        session_expiry=timedelta(hours=8),
        max_session_expiry=timedelta(days=7),
    )

    @asgi("/staff", is_mount=True, copy_scope=True, include_in_schema=False)
    async def staff(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("raw_path", b"").split(b"?")[0] == b"/staff":
            # The SPA uses relative URLs, so it must be served from /staff/.
            await send(
                {
                    "type": "http.response.start",
                    "status": 308,
                    "headers": [(b"location", b"/staff/"), (b"content-length", b"0")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        await admin(scope, receive, send)

    return staff


async def ensure_first_staff_user(settings: Settings) -> str | None:
    """In development, make a first superuser when there is none; return its new password."""
    if settings.is_production or await BaseUser.count() > 0:
        return None
    password = secrets.token_urlsafe(12)
    try:
        await BaseUser.create_user(
            username=FIRST_STAFF_USERNAME,
            password=password,
            email="admin@example.com",
            active=True,
            admin=True,
            superuser=True,
        )
    except Exception:  # another process created it first (unique username)
        if await BaseUser.exists().where(BaseUser.username == FIRST_STAFF_USERNAME):
            return None
        raise
    return password
