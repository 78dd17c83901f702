from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-30T17:03:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "case-insensitive customer lookup index"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tickets", description=DESCRIPTION)

    async def create_index():
        # Customers see the tickets whose customer_id matches their e-mail in any case.
        await engine_finder().run_ddl(
            "CREATE INDEX IF NOT EXISTS ticket_customer_id_lower ON ticket (lower(customer_id))"
        )

    async def drop_index():
        await engine_finder().run_ddl("DROP INDEX IF EXISTS ticket_customer_id_lower")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
