"""Domain errors and the one place that turns errors into the contract's JSON shape."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException

from core.settings import human_size


class DomainError(Exception):
    """A rule was broken; `status_code` says how the API reports it."""

    status_code = 400
    headers: dict[str, str] | None = None

    def __init__(self, detail: str, extra: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class BadRequest(DomainError):
    status_code = 400


class Unauthorized(DomainError):
    """No credential, or one that proves nothing; the header tells clients to send a bearer token."""

    status_code = 401

    def __init__(self, detail: str, error: str | None = None) -> None:
        super().__init__(detail)
        challenge = 'Bearer realm="helpdesk"'
        self.headers = {"WWW-Authenticate": f'{challenge}, error="{error}"' if error else challenge}


class Forbidden(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class PayloadTooLarge(DomainError):
    status_code = 413


class TooManyRequests(DomainError):
    status_code = 429

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(retry_after)}


class FieldError(ValueError):
    """One field's value is wrong; raised while a request body is validated."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


def invalid_fields(problems: list[FieldError]) -> BadRequest:
    """A 400 that lists every field problem in `extra`."""
    keys = ", ".join(dict.fromkeys(p.key for p in problems))
    return BadRequest(
        f"Invalid data in: {keys}",
        extra=[{"key": p.key, "message": p.message} for p in problems],
    )


def error_body(status_code: int, detail: str, extra: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status_code": status_code, "detail": detail}
    if extra:
        body["extra"] = extra
    return body


def domain_error_handler(_: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    return Response(
        error_body(exc.status_code, exc.detail, exc.extra),
        status_code=exc.status_code,
        media_type=MediaType.JSON,
        headers=exc.headers,
    )


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    """Litestar's own errors, with the contract's shape and a clearer 413 message."""
    detail = exc.detail
    if exc.status_code == 413:
        limit = human_size(request.app.state.settings.max_request_bytes)
        detail = f"Request body is too large; the limit is {limit}"
    return Response(
        error_body(exc.status_code, detail, exc.extra),
        status_code=exc.status_code,
        media_type=MediaType.JSON,
        headers=exc.headers,
    )


def unexpected_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """Log the failure server-side; the client learns only that it failed."""
    request.logger.exception("Unhandled error on %s %s", request.method, request.url.path)
    return Response(
        error_body(500, "Internal server error"),
        status_code=500,
        media_type=MediaType.JSON,
    )
