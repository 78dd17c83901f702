"""The webhook worker: claims due outbox rows, sends them signed, retries with backoff.

Claims are conditional updates that set a lease (`locked_until`) and a random
`claim_token`; on PostgreSQL the candidate rows are picked with
`FOR UPDATE SKIP LOCKED`, so several processes never send the same row at once.
A process that dies mid-send leaves a lease that expires, and the row is sent
again: delivery is at least once, and all state is in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from core.db import write_transaction
from core.settings import Settings
from partners.enums import DeliveryStatus
from partners.idempotency import purge_expired
from partners.tables import WebhookDelivery
from partners.webhooks import partner_webhook, signed_headers
from tickets.tables import utc_now

logger = logging.getLogger("helpdesk.webhooks")
BATCH_SIZE = 20
LEASE_MARGIN = timedelta(seconds=30)
PURGE_EVERY_SECONDS = 600
ERROR_MAX_LENGTH = 500

_CLAIM_SQL = """
UPDATE webhook_delivery SET status = 'delivering', locked_until = {}, claim_token = {}
WHERE id IN (
    SELECT id FROM webhook_delivery
    WHERE (status = 'pending' AND next_attempt_at <= {}) OR (status = 'delivering' AND locked_until < {})
    ORDER BY next_attempt_at, id
    LIMIT {} %s
)
"""


def backoff(settings: Settings, attempts: int) -> float:
    """Exponential from the base, capped, with full jitter in its upper half."""
    doublings = min(max(attempts - 1, 0), 40)  # beyond that the cap applies anyway; avoids float overflow
    delay = min(settings.webhook_retry_base_seconds * 2**doublings, settings.webhook_retry_max_seconds)
    return delay * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not security


class WebhookWorker:
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._last_purge: float | None = None

    async def start(self) -> None:
        # httpx logs every request's URL at INFO; partners' webhook URLs may carry tokens.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self._stopping = asyncio.Event()
        self._client = httpx.AsyncClient(
            timeout=self.settings.webhook_timeout_seconds, follow_redirects=False
        )
        self._task = asyncio.create_task(self._loop(), name="webhook-worker")

    async def stop(self) -> None:
        """Finish the batch in hand (at most one timeout), then close the HTTP client."""
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=self.settings.webhook_timeout_seconds + 5)
            except TimeoutError:
                self._task.cancel()
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                sent = await self.run_once()
                await self._purge_now_and_then()
            except Exception:
                logger.exception("Webhook worker pass failed")
                sent = 0
            if not sent:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=self.settings.webhook_poll_seconds)

    async def _purge_now_and_then(self) -> None:
        if self._last_purge is None or time.monotonic() - self._last_purge >= PURGE_EVERY_SECONDS:
            self._last_purge = time.monotonic()
            await purge_expired()

    async def run_once(self) -> int:
        """Claim and send one batch; the number of rows handled."""
        token = secrets.token_hex(16)
        rows = await self._claim(token)
        if rows:
            client = self._client or httpx.AsyncClient(timeout=self.settings.webhook_timeout_seconds)
            try:
                await asyncio.gather(*(self._deliver(client, row, token) for row in rows))
            finally:
                if client is not self._client:
                    await client.aclose()
        return len(rows)

    async def _claim(self, token: str) -> list[dict[str, Any]]:
        now = utc_now()
        if not await self._anything_due(now):
            return []  # an idle poll stays a read: on SQLite a claim takes the write lock
        lease = now + timedelta(seconds=self.settings.webhook_timeout_seconds) + LEASE_MARGIN
        skip_locked = "FOR UPDATE SKIP LOCKED" if isinstance(self.engine, PostgresEngine) else ""
        async with write_transaction(self.engine):
            await WebhookDelivery.raw(_CLAIM_SQL % skip_locked, lease, token, now, now, BATCH_SIZE)
        return await WebhookDelivery.select().where(WebhookDelivery.claim_token == token)

    async def _anything_due(self, now: datetime) -> bool:
        pending = (WebhookDelivery.status == DeliveryStatus.pending) & (
            WebhookDelivery.next_attempt_at <= now
        )
        abandoned = (WebhookDelivery.status == DeliveryStatus.delivering) & (
            WebhookDelivery.locked_until < now
        )
        return await WebhookDelivery.exists().where(pending | abandoned)

    async def _deliver(self, client: httpx.AsyncClient, row: dict[str, Any], token: str) -> None:
        target = await partner_webhook(row["partner"])
        if (
            target is None
            or not target["active"]
            or not target["webhook_url"]
            or not target["webhook_secret"]
        ):
            await self._finish(
                row, token, DeliveryStatus.failed, None, "Partner inactive or without webhook URL/secret"
            )
            return
        body = row["payload"].encode()
        headers = signed_headers(target["webhook_secret"], row["event_id"], str(int(time.time())), body)
        status_code: int | None = None
        try:
            # Streamed and never read: only the status matters, whatever the receiver sends back.
            async with client.stream(
                "POST", target["webhook_url"], content=body, headers=headers
            ) as response:
                status_code = response.status_code
            error = "" if 200 <= status_code < 300 else f"HTTP {status_code}"
        except httpx.TimeoutException:
            error = f"Timed out after {self.settings.webhook_timeout_seconds:g} s"
        except Exception as exc:  # any failure to send (bad URL too) is retried, never a stuck row
            error = f"{type(exc).__name__}: {exc}"[:ERROR_MAX_LENGTH]
        if not error:
            await self._finish(row, token, DeliveryStatus.delivered, status_code, "")
            return
        await self._retry_or_give_up(row, token, status_code, error)

    async def _retry_or_give_up(
        self, row: dict[str, Any], token: str, status_code: int | None, error: str
    ) -> None:
        attempts = row["attempts"] + 1
        next_at = utc_now() + timedelta(seconds=backoff(self.settings, attempts))
        if next_at >= row["give_up_at"]:
            await self._finish(row, token, DeliveryStatus.failed, status_code, error)
            return
        async with write_transaction(self.engine):
            await WebhookDelivery.update(
                {
                    WebhookDelivery.status: DeliveryStatus.pending,
                    WebhookDelivery.attempts: attempts,
                    WebhookDelivery.next_attempt_at: next_at,
                    WebhookDelivery.last_status_code: status_code,
                    WebhookDelivery.last_error: error,
                    WebhookDelivery.locked_until: None,
                    WebhookDelivery.claim_token: None,
                }
            ).where(WebhookDelivery.id == row["id"], WebhookDelivery.claim_token == token)

    async def _finish(
        self, row: dict[str, Any], token: str, status: DeliveryStatus, status_code: int | None, error: str
    ) -> None:
        delivered_at: datetime | None = utc_now() if status is DeliveryStatus.delivered else None
        async with write_transaction(self.engine):
            await WebhookDelivery.update(
                {
                    WebhookDelivery.status: status,
                    WebhookDelivery.attempts: row["attempts"] + 1,
                    WebhookDelivery.last_status_code: status_code,
                    WebhookDelivery.last_error: error,
                    WebhookDelivery.delivered_at: delivered_at,
                    WebhookDelivery.locked_until: None,
                    WebhookDelivery.claim_token: None,
                }
            ).where(WebhookDelivery.id == row["id"], WebhookDelivery.claim_token == token)
