"""Fixed one-minute windows of requests per partner or customer, in memory or in Redis.

The count and the window live under one key per (bucket, minute); Redis
increments and sets the expiry in one Lua script, so several server processes
share the limit exactly.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders, ResponseHeader
from litestar.types import Message, Scope

from core.errors import TooManyRequests
from core.settings import Settings

logger = logging.getLogger("helpdesk.ratelimit")
WINDOW_SECONDS = 60
clock = time.time  # the windows' clock; tests hold it still so a minute cannot roll over mid-test
HEADERS_STATE_KEY = "rate_limit_headers"

_INCREMENT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


# For the OpenAPI document; the values are set per request by `add_rate_limit_headers`.
RATE_LIMIT_RESPONSE_HEADERS = [
    ResponseHeader(
        name="RateLimit-Limit", description="Requests allowed per minute.", documentation_only=True
    ),
    ResponseHeader(
        name="RateLimit-Remaining", description="Requests left in this minute.", documentation_only=True
    ),
    ResponseHeader(
        name="RateLimit-Reset", description="Seconds until the minute's window ends.", documentation_only=True
    ),
]


@dataclass(frozen=True, slots=True)
class RateLimitResult:
    limit: int
    count: int
    reset: int

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(max(self.limit - self.count, 0)),
            "RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset)
        return headers


class RateLimiter(Protocol):
    async def hit(self, bucket: str, limit: int) -> RateLimitResult: ...

    async def close(self) -> None: ...


def _window(now: float) -> tuple[int, int]:
    """The current window's number and the whole seconds until it ends (at least 1)."""
    window = int(now // WINDOW_SECONDS)
    return window, max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))


class MemoryRateLimiter:
    """Per process: right for one server process, or tests."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._window = -1

    async def hit(self, bucket: str, limit: int) -> RateLimitResult:
        window, reset = _window(clock())
        if window != self._window:
            self._counts.clear()
            self._window = window
        count = self._counts.get(bucket, 0) + 1
        self._counts[bucket] = count
        return RateLimitResult(limit=limit, count=count, reset=reset)

    def reset(self) -> None:
        self._counts.clear()

    async def close(self) -> None:
        return None


class RedisRateLimiter:
    """Shared by every process that uses the same Redis and key prefix."""

    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = prefix
        self._client: Any = None
        self._script: Any = None

    def _connect(self) -> Any:
        if self._client is None:
            from redis.asyncio import Redis

            self._client = Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=1)
            self._script = self._client.register_script(_INCREMENT)
        return self._script

    async def hit(self, bucket: str, limit: int) -> RateLimitResult:
        script = self._connect()
        window, reset = _window(clock())
        count = await script(keys=[f"{self.prefix}ratelimit:{bucket}:{window}"], args=[WINDOW_SECONDS + 1])
        return RateLimitResult(limit=limit, count=int(count), reset=reset)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def make_rate_limiter(settings: Settings) -> RateLimiter:
    if settings.redis_url:
        return RedisRateLimiter(settings.redis_url, settings.redis_key_prefix)
    return MemoryRateLimiter()


async def enforce(connection: ASGIConnection[Any, Any, Any, Any], bucket: str, limit: int) -> None:
    """Count the request; its headers go on the response whatever it is, a 429 past the limit."""
    try:
        result = await connection.app.state.rate_limiter.hit(bucket, limit)
    except Exception:
        # Fail open: an outage of the counter store must not stop partners and customers.
        logger.warning("Rate limiter unavailable; request not counted", exc_info=True)
        return
    connection.state[HEADERS_STATE_KEY] = result.headers()
    if not result.allowed:
        raise TooManyRequests(
            f"Rate limit of {limit} requests per minute exceeded; retry in {result.reset} s",
            retry_after=result.reset,
        )


async def add_rate_limit_headers(message: Message, scope: Scope) -> None:
    """before_send: also error responses (made by exception handlers) carry the headers."""
    if message["type"] != "http.response.start":
        return
    headers = scope.get("state", {}).get(HEADERS_STATE_KEY)
    if headers:
        mutable = MutableScopeHeaders.from_message(message)
        for name, value in headers.items():
            mutable[name] = value
