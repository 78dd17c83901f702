"""Sign-in records: refresh tokens and magic-link codes (stored only as digests), and the dev outbox."""

from __future__ import annotations

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import ForeignKey, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class RefreshToken(Table):
    """One link in a chain of rotated refresh tokens; the chain is the family."""

    family = Varchar(length=32, index=True, help_text="Every token rotated from one sign-in.")
    token_hash = Varchar(
        length=64, unique=True, help_text="HMAC-SHA256 of the token; the token is never kept."
    )
    user = ForeignKey(BaseUser, on_delete=OnDelete.cascade, null=False, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None, help_text="Rotated: a second use revokes the family.")
    revoked_at = Timestamptz(null=True, default=None)


class MagicLinkCode(Table):
    """A one-time customer sign-in code."""

    email = Varchar(length=254, index=True)
    code_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class OutboxMail(Table):
    """Mail written instead of sent (development without SMTP_URL), for staff to read."""

    recipient = Varchar(length=254, index=True)
    subject = Varchar(length=200)
    body = Text()
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
