"""Piccolo's single place that names the engine and the apps."""

from piccolo.conf.apps import AppRegistry

from core.db import make_engine
from core.settings import get_settings

DB = make_engine(get_settings())

APP_REGISTRY = AppRegistry(
    apps=[
        "tickets.piccolo_app",
        "partners.piccolo_app",
        "piccolo.apps.user.piccolo_app",
        "piccolo_api.session_auth.piccolo_app",
        "auth.piccolo_app",
    ]
)
