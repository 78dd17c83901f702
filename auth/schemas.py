"""Request and response shapes of the sign-in endpoints."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from core.identity import EMAIL_MAX_LENGTH, EMAIL_PATTERN

Secret = Annotated[str, Meta(min_length=1, max_length=4096)]


class StaffLogin(Struct, kw_only=True):
    username: Annotated[str, Meta(min_length=1, max_length=1000)]
    password: Secret


class RefreshRequest(Struct, kw_only=True):
    refresh_token: Secret


class TokenPair(Struct, kw_only=True):
    """A staff sign-in: a short-lived access token and a one-time refresh token."""

    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the scheme name


class AccessToken(Struct, kw_only=True):
    access_token: str
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the scheme name


class MagicLinkRequest(Struct, kw_only=True):
    email: Annotated[
        str, Meta(max_length=EMAIL_MAX_LENGTH, pattern=EMAIL_PATTERN, description="The customer's e-mail.")
    ]


class MagicLinkSent(Struct, kw_only=True):
    detail: str


class MagicLinkVerify(Struct, kw_only=True):
    code: Secret
