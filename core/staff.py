"""The staff UI (Piccolo Admin), built once and mounted under /staff/."""

from __future__ import annotations

import secrets
from datetime import timedelta

from litestar import asgi
from litestar.handlers import ASGIRouteHandler
from litestar.types import Receive, Scope, Send
from piccolo.apps.user.tables import BaseUser
from piccolo.engine import engine_finder
from piccolo_admin.endpoints import TableConfig, create_admin
from piccolo_api.crud.validators import Validators

from auth.admin import AUTH_TABLE_CONFIGS
from core.settings import Settings
from partners.admin import FORM_CONFIGS as PARTNER_FORMS
from partners.admin import TABLE_CONFIGS as PARTNER_TABLES
from tickets.admin import superusers_only, ticket_table_configs
from tickets.admin_forms import STAFF_DIRECTORY, ticket_forms
from tickets.services import TicketService
from tickets.storage import AttachmentStore

FIRST_STAFF_USERNAME = "admin"
SITE_NAME = "Helpdesk staff"
DASHBOARD_PATH = "/staff-dashboard/"
LOGIN_PATH = "/staff/#/login"
SESSION_EXPIRY = timedelta(hours=8)  # a working day; activity extends it
MAX_SESSION_EXPIRY = timedelta(days=7)  # then sign in again, whatever the activity

# Staff accounts are Piccolo users; only superusers may see or change them
# (Piccolo Admin itself stops non-superusers from writing, not from reading).
STAFF_ACCOUNTS = TableConfig(
    BaseUser,
    visible_columns=[
        BaseUser.id,
        BaseUser.username,
        BaseUser.email,
        BaseUser.first_name,
        BaseUser.last_name,
        BaseUser.active,
        BaseUser.admin,
        BaseUser.superuser,
        BaseUser.last_login,
    ],
    visible_filters=[BaseUser.username, BaseUser.email, BaseUser.active, BaseUser.superuser],
    validators=Validators(every=[superusers_only("manage staff accounts")]),
    menu_group="Settings",
)


def staff_ticket_service(settings: Settings) -> TicketService:
    store = AttachmentStore(settings.media_root, settings.max_upload_bytes, settings.max_upload_files)
    return TicketService(engine=engine_finder(), store=store, media_url=lambda path: f"/media/{path}")


def staff_mount(settings: Settings) -> ASGIRouteHandler:
    """Built once: a per-request build costs ~86 ms and resets the login rate limiter."""
    service = staff_ticket_service(settings)
    admin = create_admin(
        tables=[*ticket_table_configs(service), STAFF_ACCOUNTS, *AUTH_TABLE_CONFIGS, *PARTNER_TABLES],
        forms=[*ticket_forms(service), *PARTNER_FORMS],
        site_name=SITE_NAME,
        production=settings.is_production,
        allowed_hosts=list(settings.staff_allowed_hosts),
        session_expiry=SESSION_EXPIRY,
        max_session_expiry=MAX_SESSION_EXPIRY,
        sidebar_links={"Dashboard": DASHBOARD_PATH, "API documentation": "/schema/swagger"},
    )

    @asgi("/staff", is_mount=True, copy_scope=True, include_in_schema=False)
    async def staff(scope: Scope, receive: Receive, send: Send) -> None:
        raw_path = scope.get("raw_path", b"").split(b"?")[0]
        if scope["type"] == "http" and raw_path == b"/staff":
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
        if raw_path.startswith(b"/staff/api/forms/"):
            # The assignee dropdown lists the staff users active now.
            await STAFF_DIRECTORY.refresh()
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
