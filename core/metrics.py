"""Prometheus metrics: what the service did (tickets, comments, errors) and its database pool.

Request counts and latency per route template and status come from Litestar's
PrometheusMiddleware (`helpdesk_requests_total`, `helpdesk_request_duration_seconds`);
the counters here are the domain's own. /metrics is served only when
METRICS_ENABLED, and then only to callers with the METRICS_TOKEN bearer token if one is set.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.plugins.prometheus import PrometheusConfig, PrometheusMiddleware
from litestar.types import Scope
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from prometheus_client import REGISTRY, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector

from core.errors import NotFound

PREFIX = "helpdesk"

TICKETS_CREATED = Counter(f"{PREFIX}_tickets_created", "Tickets created, by source", ["source"])
COMMENTS_ADDED = Counter(f"{PREFIX}_comments_added", "Comments added, by the author's role", ["role"])
ERRORS = Counter(f"{PREFIX}_errors", "Error responses, by status code", ["status_code"])


class PoolCollector(Collector):
    """Connections of the PostgreSQL pool, read when scraped (SQLite has no pool: nothing reported)."""

    def __init__(self) -> None:
        self.engine: Engine | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pool = getattr(self.engine, "pool", None) if isinstance(self.engine, PostgresEngine) else None
        if pool is None:
            return
        size, idle = pool.get_size(), pool.get_idle_size()
        family = GaugeMetricFamily(
            f"{PREFIX}_db_pool_connections", "PostgreSQL pool connections, by state", labels=["state"]
        )
        family.add_metric(["in_use"], size - idle)
        family.add_metric(["idle"], idle)
        family.add_metric(["max"], pool.get_max_size())
        yield family


POOL = PoolCollector()
REGISTRY.register(POOL)


def track_pool(engine: Engine) -> None:
    POOL.engine = engine


def route_template(scope: Scope) -> str:
    """The matched route's template (`/customer/tickets/{ticket_id}`), never the raw path."""
    template = scope.get("path_template")
    if template:
        return template
    handler = scope.get("route_handler")
    if handler is not None and handler.paths:  # a mount (the staff UI) has no template of its own
        return min(handler.paths)
    return "<unmatched>"


class RouteTemplateMetrics(PrometheusMiddleware):
    """Labels requests by route template, naming the staff UI mount too (its template is empty)."""

    def _get_default_labels(self, request: Request[Any, Any, Any]) -> dict[str, str | int | float]:
        return {**super()._get_default_labels(request), "path": route_template(request.scope)}


def request_metrics() -> PrometheusConfig:
    return PrometheusConfig(
        app_name=PREFIX,
        prefix=PREFIX,
        group_path=True,
        exclude=["/metrics"],
        middleware_class=RouteTemplateMetrics,
    )


def metrics_access(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Disabled: 404, as if it did not exist. With a token: the exact bearer token, else 404 too."""
    settings = connection.app.state.settings
    if not settings.metrics_enabled:
        raise NotFound("Not Found")
    if settings.metrics_token_digest is not None:
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        given = settings.digest_secret(token) if scheme.lower() == "bearer" else b""
        if not hmac.compare_digest(given, settings.metrics_token_digest):
            raise NotFound("Not Found")


class MetricsController(Controller):
    path = "/metrics"
    include_in_schema = False
    guards = [metrics_access]

    @get("/", operation_id="metrics", summary="Prometheus metrics (text format)")
    async def metrics(self) -> Response[bytes]:
        # The classic text format (0.0.4), which every Prometheus version scrapes.
        return Response(generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})
