"""Idempotency-Key: the first response to a key is replayed to every retry with the same body.

A key is claimed by inserting its row (unique per scope and key) before the
work starts, so of two concurrent requests exactly one runs and the other is
told the first is still in flight (409). A different body under a used key is
a 422. Only successful responses are kept: a refused request changed nothing,
so its key stays free for a corrected retry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import Any

import msgspec
from anyio import to_thread
from litestar import MediaType, Request, Response
from litestar.datastructures import UploadFile
from litestar.params import HeaderParameter

from core.db import write_transaction
from core.errors import BadRequest, Conflict, DomainError
from core.settings import Settings
from partners.enums import IdempotencyState
from partners.tables import IdempotencyRecord
from tickets.tables import utc_now

KEY_MAX_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"
# A request in flight this long is taken to have died with its process; a retry may take its key over.
IN_FLIGHT_LEASE = timedelta(minutes=5)
READ_CHUNK = 1024 * 1024

IDEMPOTENCY_KEY_HEADER = HeaderParameter(
    name="Idempotency-Key",
    required=False,
    max_length=KEY_MAX_LENGTH,
    description=(
        "Any unique string (a UUID is best). Retrying with the same key and body within 24 hours "
        "replays the first response with `Idempotent-Replayed: true`; another body is a 422; "
        "while the first request is still running, a 409."
    ),
)

Outcome = tuple[int, msgspec.Struct]


class IdempotencyKeyReused(DomainError):
    status_code = 422


def _feed(digest: Any, *parts: bytes) -> None:
    """Length-prefixed, so field boundaries cannot be shifted to forge the same hash."""
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)


def _hash_file(digest: Any, upload: UploadFile) -> None:
    upload.file.seek(0)
    while chunk := upload.file.read(READ_CHUNK):
        digest.update(chunk)
    upload.file.seek(0)


async def request_fingerprint(request: Request[Any, Any, Any]) -> str:
    """SHA-256 of the method, path and body; a form by its fields and file bytes (not its boundary)."""
    digest = hashlib.sha256()
    _feed(digest, request.method.encode(), request.url.path.encode())
    if request.content_type[0] in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await request.form()
        for name, value in sorted(form.multi_items(), key=lambda item: item[0]):
            if isinstance(value, UploadFile):
                _feed(digest, b"file", name.encode(), (value.filename or "").encode())
                files = hashlib.sha256()
                await to_thread.run_sync(_hash_file, files, value)
                _feed(digest, files.digest())
            else:
                _feed(digest, b"field", name.encode(), str(value).encode())
    else:
        _feed(digest, b"body", await request.body())
    return digest.hexdigest()


def check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > KEY_MAX_LENGTH or not key.isprintable():
        raise BadRequest(f"Idempotency-Key must be 1 to {KEY_MAX_LENGTH} printable characters")
    return key


def json_response(status: int, body: bytes, replayed: bool = False) -> Response[bytes]:
    headers = {REPLAYED_HEADER: "true"} if replayed else {}
    return Response(content=body, status_code=status, media_type=MediaType.JSON, headers=headers)


class Idempotency:
    def __init__(self, settings: Settings) -> None:
        self.ttl = timedelta(seconds=settings.idempotency_ttl_seconds)

    async def run(
        self,
        request: Request[Any, Any, Any],
        scope: str,
        key: str | None,
        action: Callable[[], Awaitable[Outcome]],
    ) -> Response[bytes]:
        """Run `action` once per (scope, key); without a key, just run it."""
        if key is None:
            status, body = await action()
            return json_response(status, msgspec.json.encode(body))
        key = check_key(key)
        request_hash = await request_fingerprint(request)
        replay = await self._claim(scope, key, request_hash)
        if replay is not None:
            return replay
        try:
            status, body = await action()
        except BaseException:
            async with _writing():
                await IdempotencyRecord.delete().where(
                    IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
                )
            raise
        encoded = msgspec.json.encode(body)
        async with _writing():
            await IdempotencyRecord.update(
                {
                    IdempotencyRecord.state: IdempotencyState.done,
                    IdempotencyRecord.response_status: status,
                    IdempotencyRecord.response_body: encoded.decode(),
                }
            ).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
        return json_response(status, encoded)

    async def _claim(self, scope: str, key: str, request_hash: str) -> Response[bytes] | None:
        """None when this request owns the key now; else the replay (or a 409/422)."""
        for _ in range(3):
            now = utc_now()
            async with _writing():
                await IdempotencyRecord.delete().where(
                    IdempotencyRecord.scope == scope,
                    IdempotencyRecord.key == key,
                    IdempotencyRecord.expires_at <= now,
                )
                claimed = (
                    await IdempotencyRecord.insert(
                        IdempotencyRecord(
                            scope=scope,
                            key=key,
                            request_hash=request_hash,
                            state=IdempotencyState.in_flight,
                            created_at=now,
                            expires_at=now + self.ttl,
                        )
                    )
                    .on_conflict(action="DO NOTHING")
                    .returning(IdempotencyRecord.id)
                )
            if claimed:
                return None
            row = (
                await IdempotencyRecord.select()
                .where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
                .first()
            )
            if row is None:  # finished with an error (and forgotten) in the meantime: try again
                continue
            if row["request_hash"] != request_hash:
                raise IdempotencyKeyReused(
                    "This Idempotency-Key was already used with a different request; use a new key"
                )
            if row["state"] == IdempotencyState.done:
                return json_response(row["response_status"], row["response_body"].encode(), replayed=True)
            if await self._take_over_stale(row, now):
                return None
            raise Conflict("A request with this Idempotency-Key is still in progress; retry later")
        raise Conflict("A request with this Idempotency-Key is still in progress; retry later")

    async def _take_over_stale(self, row: dict[str, Any], now: Any) -> bool:
        if row["created_at"] > now - IN_FLIGHT_LEASE:
            return False
        async with _writing():
            taken = (
                await IdempotencyRecord.update({IdempotencyRecord.created_at: now})
                .where(
                    IdempotencyRecord.id == row["id"],
                    IdempotencyRecord.state == IdempotencyState.in_flight,
                    IdempotencyRecord.created_at == row["created_at"],
                )
                .returning(IdempotencyRecord.id)
            )
        return bool(taken)


def _writing() -> AbstractAsyncContextManager[None]:
    """Writes queue on the project's write lock (SQLite) instead of polling the busy timeout."""
    return write_transaction(IdempotencyRecord._meta.db)


async def purge_expired() -> int:
    async with _writing():
        return await _delete_expired()


async def _delete_expired() -> int:
    removed = (
        await IdempotencyRecord.delete()
        .where(IdempotencyRecord.expires_at <= utc_now())
        .returning(IdempotencyRecord.id)
    )
    return len(removed)
