"""The sign-in rules: staff tokens with rotating refresh tokens, and customer magic links."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from piccolo.engine.base import Engine

from auth.mail import Mail
from auth.passwords import check_password
from auth.schemas import AccessToken, TokenPair
from auth.tables import MagicLinkCode, RefreshToken
from core.db import write_transaction
from core.errors import Unauthorized
from core.identity import Caller, Role
from core.identity.session import active_staff_email
from core.identity.tokens import issue_access_token
from core.settings import Settings
from core.throttle import Throttle

BAD_LOGIN = "Invalid username or password, or not an active staff user"
BAD_REFRESH = "Invalid, expired or revoked refresh token"
BAD_CODE = "Invalid, expired or already used sign-in code"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class AuthService:
    settings: Settings
    engine: Engine
    throttle: Throttle

    def _digest(self, secret: str) -> str:
        return self.settings.digest_secret(secret).hex()

    def _throttle(self, action: str, client_ip: str, account: str | None) -> None:
        auth = self.settings.auth
        self.throttle.hit(f"{action}:ip", client_ip, auth.throttle_per_ip)
        if account is not None:
            self.throttle.hit(f"{action}:account", account.strip().lower(), auth.throttle_per_account)

    def _token_pair(self, email: str, refresh_token: str) -> TokenPair:
        auth = self.settings.auth
        access = issue_access_token(self.settings, Caller(Role.admin, email), auth.access_token_ttl)
        return TokenPair(
            access_token=access,
            expires_in=auth.access_token_ttl,
            refresh_token=refresh_token,
            refresh_expires_in=auth.refresh_token_ttl,
        )

    async def _new_refresh_token(self, user_id: int, family: str) -> str:
        token = secrets.token_urlsafe(32)
        expires_at = utc_now() + timedelta(seconds=self.settings.auth.refresh_token_ttl)
        await RefreshToken.insert(
            RefreshToken(family=family, token_hash=self._digest(token), user=user_id, expires_at=expires_at)
        )
        return token

    async def staff_login(self, username: str, password: str, client_ip: str) -> TokenPair:
        self._throttle("login", client_ip, username)
        user_id = await check_password(username, password)
        email = await active_staff_email(user_id) if user_id is not None else None
        if user_id is None or email is None:
            raise Unauthorized(BAD_LOGIN)
        async with write_transaction(self.engine):
            refresh = await self._new_refresh_token(user_id, secrets.token_hex(16))
        return self._token_pair(email, refresh)

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate: the token is spent and a new one issued; a spent token coming back revokes the family."""
        now = utc_now()
        pair: TokenPair | None = None
        async with write_transaction(self.engine):
            row = (
                await RefreshToken.select()
                .where(RefreshToken.token_hash == self._digest(refresh_token))
                .first()
            )
            if row is None:
                raise Unauthorized(BAD_REFRESH)
            spent = await (
                RefreshToken.update({RefreshToken.used_at: now})
                .where(
                    (RefreshToken.id == row["id"])
                    & RefreshToken.used_at.is_null()
                    & RefreshToken.revoked_at.is_null()
                )
                .returning(RefreshToken.id)
            )
            email = await active_staff_email(row["user"]) if spent else None
            if spent and email and row["expires_at"] > now:
                pair = self._token_pair(email, await self._new_refresh_token(row["user"], row["family"]))
            elif not spent or not email:
                # Reuse of a spent token (stolen, or replayed), or the user lost staff rights.
                await self._revoke_family(row["family"], now)
        if pair is None:
            raise Unauthorized(BAD_REFRESH)
        return pair

    async def _revoke_family(self, family: str, now: datetime) -> None:
        await RefreshToken.update({RefreshToken.revoked_at: now}).where(
            (RefreshToken.family == family) & RefreshToken.revoked_at.is_null()
        )

    async def logout(self, refresh_token: str) -> None:
        """Revoke the token's whole family; an unknown token is not an error (nothing to revoke)."""
        async with write_transaction(self.engine):
            row = await (
                RefreshToken.select(RefreshToken.family)
                .where(RefreshToken.token_hash == self._digest(refresh_token))
                .first()
            )
            if row is not None:
                await self._revoke_family(row["family"], utc_now())

    async def request_magic_link(self, email: str, client_ip: str) -> Mail:
        """A one-time code for any address: customers need no account, so nothing is enumerated."""
        email = email.strip()
        self._throttle("magic-link", client_ip, email)
        code = secrets.token_urlsafe(24)
        now = utc_now()
        ttl = self.settings.auth.magic_link_ttl
        async with write_transaction(self.engine):
            await MagicLinkCode.delete().where(MagicLinkCode.expires_at < now)
            await MagicLinkCode.insert(
                MagicLinkCode(
                    email=email, code_hash=self._digest(code), expires_at=now + timedelta(seconds=ttl)
                )
            )
        return self._sign_in_mail(email, code, ttl)

    def _sign_in_mail(self, email: str, code: str, ttl: int) -> Mail:
        lines = [f"Your helpdesk sign-in code: {code}", ""]
        if self.settings.auth.magic_link_url:
            lines += [
                "Or open this link:",
                f"{self.settings.auth.magic_link_url}?{urlencode({'code': code})}",
                "",
            ]
        lines.append(
            f"It works once, within {ttl // 60} minutes. If you did not ask for it, ignore this mail."
        )
        return Mail(to=email, subject="Your helpdesk sign-in code", body="\n".join(lines))

    async def verify_magic_link(self, code: str, client_ip: str) -> AccessToken:
        self._throttle("verify", client_ip, None)
        now = utc_now()
        async with write_transaction(self.engine):
            used = await (
                MagicLinkCode.update({MagicLinkCode.used_at: now})
                .where(
                    (MagicLinkCode.code_hash == self._digest(code))
                    & MagicLinkCode.used_at.is_null()
                    & (MagicLinkCode.expires_at > now)
                )
                .returning(MagicLinkCode.email)
            )
        if not used:
            raise Unauthorized(BAD_CODE)
        ttl = self.settings.auth.customer_token_ttl
        token = issue_access_token(self.settings, Caller(Role.customer, used[0]["email"]), ttl)
        return AccessToken(access_token=token, expires_in=ttl)
