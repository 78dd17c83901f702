"""Readiness: the database answers and every migration file has been applied."""

from __future__ import annotations

import asyncio
from functools import lru_cache

from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.tables import Migration

READY_TIMEOUT_SECONDS = 3.0


@lru_cache(maxsize=1)
def expected_migrations() -> frozenset[tuple[str, str]]:
    """(app, migration id) of every migration file; the files do not change while running."""
    manager = BaseMigrationManager()
    expected: set[tuple[str, str]] = set()
    for module in manager.get_app_modules():
        config = module.APP_CONFIG
        modules = manager.get_migration_modules(config.resolved_migrations_folder_path)
        expected.update((config.app_name, migration_id) for migration_id in modules)
    return frozenset(expected)


async def _pending_migrations() -> list[str]:
    rows = await Migration.select(Migration.app_name, Migration.name)
    applied = {(row["app_name"], row["name"]) for row in rows}
    return sorted(f"{app}:{name}" for app, name in expected_migrations() - applied)


async def readiness_problem() -> str | None:
    """None when ready, else one sentence that says why not (no internals beyond that)."""
    try:
        pending = await asyncio.wait_for(_pending_migrations(), READY_TIMEOUT_SECONDS)
    except TimeoutError:
        return "The database did not answer in time"
    except Exception:  # unreachable, refused, or no migration table yet
        return "The database is unreachable or not migrated"
    if pending:
        return f"Migrations not applied: {', '.join(pending)}"
    return None
