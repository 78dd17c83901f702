from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-30T17:22:32:000000"
VERSION = "1.38.0"
DESCRIPTION = "external_ref unique per partner"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tickets", description=DESCRIPTION)

    async def create_unique_index():
        # The database, not a check-then-insert, keeps one ticket per (partner, external_ref).
        # Rows without a partner (customer tickets, older imports) have NULL there and never clash.
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS ticket_partner_external_ref_unique "
            "ON ticket (partner, external_ref)"
        )

    async def drop_unique_index():
        await engine_finder().run_ddl("DROP INDEX IF EXISTS ticket_partner_external_ref_unique")

    manager.add_raw(create_unique_index)
    manager.add_raw_backwards(drop_unique_index)
    return manager
