"""A small in-process throttle for sign-in requests: at most N attempts per key per window.

Per process, in memory: enough to slow password guessing and mail flooding on one
instance. Fixed windows keep it to one counter per key; stale keys are swept as
new ones arrive, so memory stays bounded by the traffic of one window.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from core.errors import TooManyRequests


class Throttle:
    def __init__(self, window_seconds: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window_seconds
        self.clock = clock
        self._counts: dict[tuple[str, str], tuple[float, int]] = {}
        self._next_sweep = 0.0

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._counts = {k: v for k, v in self._counts.items() if v[0] + self.window > now}
        self._next_sweep = now + self.window

    def hit(self, scope: str, key: str, limit: int) -> None:
        """Count one attempt for `key`; past `limit` in this window, a 429 with Retry-After."""
        now = self.clock()
        self._sweep(now)
        started, count = self._counts.get((scope, key), (now, 0))
        if started + self.window <= now:
            started, count = now, 0
        if count >= limit:
            retry_after = max(1, math.ceil(started + self.window - now))
            raise TooManyRequests(
                f"Too many attempts. Try again in {retry_after} seconds.", retry_after=retry_after
            )
        self._counts[(scope, key)] = (started, count + 1)

    def clear(self) -> None:
        self._counts.clear()
