"""Staff password check, as BaseUser.login does it, but off the event loop and in constant time.

PBKDF2 with Piccolo's iteration count takes a good fraction of a second; run inline
it would stall every other request of the process while a login is checked.
"""

from __future__ import annotations

import asyncio
import hmac
from datetime import datetime

from piccolo.apps.user.tables import BaseUser


async def check_password(username: str, password: str) -> int | None:
    """The user's id when the password is right, else None (unknown users cost the same time)."""
    if len(username) > BaseUser.username.length or len(password) > BaseUser._max_password_length:
        return None
    row = await BaseUser.select(BaseUser.id, BaseUser.password).where(BaseUser.username == username).first()
    if row is None:
        await asyncio.to_thread(BaseUser.hash_password, password)
        return None
    _, iterations, salt, _ = BaseUser.split_stored_password(row["password"])
    candidate = await asyncio.to_thread(BaseUser.hash_password, password, salt, int(iterations))
    if not hmac.compare_digest(candidate.encode(), row["password"].encode()):
        return None
    # Piccolo's last_login column is a naive timestamp.
    await BaseUser.update({BaseUser.last_login: datetime.now()}).where(BaseUser.id == row["id"])
    return row["id"]
