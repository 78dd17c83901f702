"""One ASGI wrapper around the whole app: request ids, security headers and the access log.

It wraps Litestar's own handler (like CORS does), so it sees every response:
routed ones, 404s and 405s from the router, errors, the staff UI and static files.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from core.metrics import ERRORS, route_template

ACCESS_LOG = logging.getLogger("helpdesk.access")
REQUEST_ID_HEADER = b"x-request-id"
# Accepted as given only when short and plain, so it cannot forge log lines or headers.
_VALID_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:@/+=-]{1,128}$")

COMMON_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
)
# The landing page loads only its own stylesheet; nothing may frame it or run scripts.
HOME_CSP = (
    b"default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    b"form-action 'none'; frame-ancestors 'none'"
)
# JSON and files: nothing to run, nothing to frame.
API_CSP = b"default-src 'none'; frame-ancestors 'none'"
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")

# The staff UI (Piccolo Admin) previews PDFs in a same-origin iframe and is a Vue SPA
# with its own inline assets; the API docs load their renderers from a CDN.
STAFF_PREFIX = "/staff"
DOCS_PREFIX = "/schema"


def request_id_from(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            return value.decode("ascii") if _VALID_REQUEST_ID.match(value) else uuid.uuid4().hex
    return uuid.uuid4().hex


def security_headers(path: str, production: bool) -> list[tuple[bytes, bytes]]:
    headers = list(COMMON_HEADERS)
    if path == STAFF_PREFIX or path.startswith(STAFF_PREFIX + "/"):
        headers.append((b"x-frame-options", b"SAMEORIGIN"))
    else:
        headers.append((b"x-frame-options", b"DENY"))
        if path == "/":
            headers.append((b"content-security-policy", HOME_CSP))
        elif not path.startswith(DOCS_PREFIX):
            headers.append((b"content-security-policy", API_CSP))
    if production:
        headers.append(HSTS)
    return headers


def caller_role(scope: Scope) -> str:
    """The role established while handling the request (never what was merely claimed)."""
    state = scope.get("state", {})
    caller = state.get("caller")
    if caller is not None:
        return str(caller.role)
    return str(state.get("caller_role", "anonymous"))


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, *, production: bool) -> None:
        self.app = app
        self.production = production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_from(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        extra = [*security_headers(scope["path"], self.production), (REQUEST_ID_HEADER, request_id.encode())]
        status = 500  # what the client sees if the app fails before answering

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((name, value) for name, value in extra if name not in present),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            if status >= 400:
                ERRORS.labels(str(status)).inc()
            log_request(scope, status, started, request_id)


def log_request(scope: Scope, status: int, started: float, request_id: str) -> None:
    """One JSON line: never the query string, headers, cookies or body."""
    if not ACCESS_LOG.isEnabledFor(logging.INFO):
        return
    record: dict[str, Any] = {
        "event": "request",
        "method": scope["method"],
        "route": route_template(scope),
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        "request_id": request_id,
        "role": caller_role(scope),
    }
    ACCESS_LOG.info(json.dumps(record, separators=(",", ":")))


def configure_access_log() -> None:
    """Bare JSON lines on stderr, once; not passed on to the root logger's text format."""
    if not ACCESS_LOG.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        ACCESS_LOG.addHandler(handler)
        ACCESS_LOG.setLevel(logging.INFO)
        ACCESS_LOG.propagate = False
