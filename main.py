"""The application factory, and `python main.py` to serve it with uvicorn."""

from __future__ import annotations

from pathlib import Path

import uvicorn
from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from piccolo.engine import engine_finder

from core.db import start_database, stop_database
from core.errors import DomainError, domain_error_handler, http_error_handler, unexpected_error_handler
from core.metrics import MetricsController, request_metrics, track_pool
from core.middleware import ObservabilityMiddleware, configure_access_log
from core.settings import PROJECT_DIR, Settings, get_settings
from core.staff import ensure_first_staff_user, staff_mount
from home.controller import HomeController
from tickets.controllers.admin import AdminTicketController
from tickets.controllers.customer import CustomerTicketController
from tickets.controllers.external import ExternalTicketController
from tickets.controllers.public import PublicController
from tickets.dependencies import provide_ticket_service
from tickets.seed import seed_categories
from tickets.storage import AttachmentStore

CORS_HEADERS = ["Content-Type", "Authorization", "X-ROLE", "X-USER", "X-API-KEY"]


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    engine = engine_finder()
    store = AttachmentStore(settings.media_root, settings.max_upload_bytes, settings.max_upload_files)

    configure_access_log()

    async def on_startup(app: Litestar) -> None:
        await start_database(engine)
        track_pool(engine)
        await seed_categories()
        password = await ensure_first_staff_user(settings)
        if password:
            print(f"Created staff user 'admin' with password: {password}  (shown once)", flush=True)

    async def on_shutdown(app: Litestar) -> None:
        await stop_database(engine)

    app = Litestar(
        route_handlers=[
            HomeController,
            MetricsController,
            PublicController,
            CustomerTicketController,
            AdminTicketController,
            ExternalTicketController,
            staff_mount(settings),
            create_static_files_router(path="/static", directories=[PROJECT_DIR / "static"]),
        ],
        dependencies={"tickets": Provide(provide_ticket_service)},
        exception_handlers={
            DomainError: domain_error_handler,
            HTTPException: http_error_handler,
            Exception: unexpected_error_handler,
        },
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        state=State({"settings": settings, "engine": engine, "attachment_store": store}),
        cors_config=CORSConfig(
            allow_origins=list(settings.cors_origins),
            allow_headers=CORS_HEADERS,
            allow_methods=["GET", "POST", "PUT", "PATCH", "OPTIONS"],
        ),
        template_config=TemplateConfig(
            directory=Path(__file__).parent / "home" / "templates", engine=JinjaTemplateEngine
        ),
        openapi_config=OpenAPIConfig(
            title="Helpdesk API",
            version="1.0.0",
            description="Customers open and follow tickets, agents work them, partners push them in.",
            path="/schema",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin()],
        ),
        request_max_body_size=settings.max_request_bytes,
        multipart_form_part_limit=settings.max_form_parts,
        middleware=[request_metrics().middleware],
        debug=False,
    )
    # Outside Litestar's own handler (as CORS is), so 404s, errors and the staff UI get it too.
    app.asgi_handler = ObservabilityMiddleware(app.asgi_handler, production=settings.is_production)
    return app


app = create_app()

if __name__ == "__main__":
    settings = get_settings()
    # The app logs one JSON line per request itself (core/middleware.py).
    uvicorn.run("main:app", host=settings.host, port=settings.port, proxy_headers=True, access_log=False)
