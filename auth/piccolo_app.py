import os

from piccolo.conf.apps import AppConfig

from auth.tables import MagicLinkCode, OutboxMail, RefreshToken

APP_CONFIG = AppConfig(
    app_name="auth",
    migrations_folder_path=os.path.join(os.path.dirname(os.path.abspath(__file__)), "piccolo_migrations"),
    table_classes=[RefreshToken, MagicLinkCode, OutboxMail],
    migration_dependencies=["piccolo.apps.user.piccolo_app"],
    commands=[],
)
