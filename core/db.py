"""Database engine choice and the transaction helper every write goes through."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from core.settings import Settings


def make_engine(settings: Settings) -> Engine:
    if settings.database_url:
        return PostgresEngine(config={"dsn": settings.database_url})
    # `timeout` is sqlite3's busy timeout; writers also take the lock up front (see below).
    return SQLiteEngine(path=str(settings.sqlite_path), timeout=30)


_sqlite_writers = asyncio.Lock()


@asynccontextmanager
async def write_transaction(engine: Engine) -> AsyncIterator[None]:
    """A transaction for read-then-write work.

    SQLite upgrades a deferred read transaction to a write lock lazily and fails
    with "database is locked" under concurrency; IMMEDIATE takes the lock first.
    Writers of one process also queue on an asyncio lock, so they wait their
    turn instead of polling SQLite's busy timeout (other processes still do).
    """
    if isinstance(engine, SQLiteEngine):
        async with _sqlite_writers, engine.transaction(transaction_type=TransactionType.immediate):
            yield
    else:
        async with engine.transaction():
            yield


def is_unique_violation(error: BaseException) -> bool:
    """A unique index refused the write (asyncpg on PostgreSQL, sqlite3 on SQLite)."""
    import sqlite3

    from asyncpg.exceptions import UniqueViolationError

    if isinstance(error, UniqueViolationError):
        return True
    return isinstance(error, sqlite3.IntegrityError) and "UNIQUE constraint failed" in str(error)


async def start_database(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool()
    elif isinstance(engine, SQLiteEngine):
        await engine.run_ddl("PRAGMA journal_mode=WAL")


async def stop_database(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()
