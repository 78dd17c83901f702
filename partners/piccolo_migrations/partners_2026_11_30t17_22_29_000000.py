from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-30T17:22:29:000000"
VERSION = "1.38.0"
DESCRIPTION = "Idempotency-Key unique per scope"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="partners", description=DESCRIPTION)

    async def create_unique_index():
        # One remembered request per Idempotency-Key and scope (partner or customer).
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS idempotency_record_scope_key_unique "
            "ON idempotency_record (scope, key)"
        )

    async def drop_unique_index():
        await engine_finder().run_ddl("DROP INDEX IF EXISTS idempotency_record_scope_key_unique")

    manager.add_raw(create_unique_index)
    manager.add_raw_backwards(drop_unique_index)
    return manager
