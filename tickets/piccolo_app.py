import os

from piccolo.conf.apps import AppConfig

from tickets.tables import Category, Comment, Ticket, TicketAttachment, TicketEvent

APP_CONFIG = AppConfig(
    app_name="tickets",
    migrations_folder_path=os.path.join(os.path.dirname(os.path.abspath(__file__)), "piccolo_migrations"),
    table_classes=[Category, Ticket, Comment, TicketAttachment, TicketEvent],
    migration_dependencies=["partners.piccolo_app"],
    commands=[],
)
