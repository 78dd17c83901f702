"""The application factory, and `python main.py` to serve it with uvicorn."""

from __future__ import annotations

import logging
from pathlib import Path

import uvicorn
from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from piccolo.engine import engine_finder

from auth.controllers import AuthController, provide_auth_service
from core.auth_settings import check_auth
from core.db import start_database, stop_database
from core.errors import DomainError, domain_error_handler, http_error_handler, unexpected_error_handler
from core.metrics import MetricsController, request_metrics, track_pool
from core.middleware import ObservabilityMiddleware, configure_access_log
from core.openapi import SECURITY_SCHEMES
from core.settings import PROJECT_DIR, Settings, get_settings
from core.staff import ensure_first_staff_user, staff_mount
from core.throttle import Throttle
from dashboard.controller import DashboardController
from home.controller import HomeController
from partners.idempotency import Idempotency
from partners.keys import ensure_default_partner
from partners.ratelimit import add_rate_limit_headers, make_rate_limiter
from partners.worker import WebhookWorker
from tickets.controllers.admin import AdminTicketController
from tickets.controllers.customer import CustomerTicketController
from tickets.controllers.external import ExternalTicketController
from tickets.controllers.public import PublicController
from tickets.dependencies import provide_ticket_service
from tickets.seed import seed_categories
from tickets.storage import AttachmentStore

logger = logging.getLogger("helpdesk")
CORS_HEADERS = ["Content-Type", "Authorization", "X-ROLE", "X-USER", "X-API-KEY", "Idempotency-Key"]
# Browsers hide response headers from scripts unless they are listed here.
CORS_EXPOSED_HEADERS = [
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "Retry-After",
    "Idempotent-Replayed",
]


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    check_auth(settings)
    engine = engine_finder()
    store = AttachmentStore(settings.media_root, settings.max_upload_bytes, settings.max_upload_files)
    rate_limiter = make_rate_limiter(settings)
    webhook_worker = WebhookWorker(settings, engine)

    configure_access_log()

    async def on_startup(app: Litestar) -> None:
        if settings.is_production and settings.auth.simulates_roles:
            logger.warning(
                "!!! AUTH_MODE=simulate IN PRODUCTION (ALLOW_ROLE_SIMULATION=true): anyone can act as "
                "any customer or as an admin by sending X-ROLE/X-USER. Use AUTH_MODE=token. !!!"
            )
        await start_database(engine)
        track_pool(engine)
        await seed_categories()
        await ensure_default_partner(settings)
        password = await ensure_first_staff_user(settings)
        if password:
            print(f"Created staff user 'admin' with password: {password}  (shown once)", flush=True)

    async def start_webhook_worker(app: Litestar) -> None:
        if settings.webhook_worker_enabled:
            await webhook_worker.start()

    async def stop_webhook_worker(app: Litestar) -> None:
        await webhook_worker.stop()
        await rate_limiter.close()

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
            AuthController,
            staff_mount(settings),
            DashboardController,
            create_static_files_router(path="/static", directories=[PROJECT_DIR / "static"]),
        ],
        dependencies={"tickets": Provide(provide_ticket_service), "auth": Provide(provide_auth_service)},
        exception_handlers={
            DomainError: domain_error_handler,
            HTTPException: http_error_handler,
            Exception: unexpected_error_handler,
        },
        on_startup=[on_startup, start_webhook_worker],
        on_shutdown=[stop_webhook_worker, on_shutdown],
        before_send=[add_rate_limit_headers],
        state=State(
            {
                "settings": settings,
                "engine": engine,
                "attachment_store": store,
                "auth_throttle": Throttle(settings.auth.throttle_window),
                "rate_limiter": rate_limiter,
                "idempotency": Idempotency(settings),
                "webhook_worker": webhook_worker,
            }
        ),
        cors_config=CORSConfig(
            allow_origins=list(settings.cors_origins),
            allow_headers=CORS_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            allow_methods=["GET", "POST", "PUT", "PATCH", "OPTIONS"],
        ),
        template_config=TemplateConfig(
            directory=[
                Path(__file__).parent / "home" / "templates",
                Path(__file__).parent / "dashboard" / "templates",
            ],
            engine=JinjaTemplateEngine,
        ),
        openapi_config=OpenAPIConfig(
            title="Helpdesk API",
            version="1.0.0",
            description="Customers open and follow tickets, agents work them, partners push them in.",
            path="/schema",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin()],
            components=Components(security_schemes=SECURITY_SCHEMES),
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
