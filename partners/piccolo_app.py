import os

from piccolo.conf.apps import AppConfig, Command

from partners.commands import issue_key
from partners.tables import IdempotencyRecord, Partner, PartnerKey, WebhookDelivery

APP_CONFIG = AppConfig(
    app_name="partners",
    migrations_folder_path=os.path.join(os.path.dirname(os.path.abspath(__file__)), "piccolo_migrations"),
    table_classes=[Partner, PartnerKey, IdempotencyRecord, WebhookDelivery],
    migration_dependencies=[],
    commands=[Command(callable=issue_key, aliases=["issue-key"])],
)
