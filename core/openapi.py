"""OpenAPI pieces the framework cannot infer: bodies read by hand, identity parameters."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, SecurityScheme
from litestar.params import HeaderParameter, QueryParameter

from core.identity import EMAIL_MAX_LENGTH, EMAIL_PATTERN, Role

# Documented only: the values are checked by `resolve_caller`, which words its own errors.
ROLE_SCHEMA = {"type": "string", "one_of": None, "enum": [role.value for role in Role]}
EMAIL_SCHEMA = {
    "type": "string",
    "one_of": None,
    "pattern": EMAIL_PATTERN,
    "max_length": EMAIL_MAX_LENGTH,
    "format": "email",
}

IDENTITY_PARAMETERS = {
    "x_role": HeaderParameter(
        name="X-ROLE",
        annotation=str | None,
        required=False,
        description="AUTH_MODE=simulate only: customer or admin (or the `role` query parameter).",
        schema_extra=ROLE_SCHEMA,
    ),
    "x_user": HeaderParameter(
        name="X-USER",
        annotation=str | None,
        required=False,
        description="AUTH_MODE=simulate only: the caller's e-mail (or the `user` query parameter).",
        schema_extra=EMAIL_SCHEMA,
    ),
    "role": QueryParameter(
        name="role",
        annotation=str | None,
        required=False,
        description="Fallback for X-ROLE.",
        schema_extra=ROLE_SCHEMA,
    ),
    "user": QueryParameter(
        name="user",
        annotation=str | None,
        required=False,
        description="Fallback for X-USER.",
        schema_extra=EMAIL_SCHEMA,
    ),
}

# The docs' "Authorize" button: staff and customer bearer tokens, the partner key, the staff UI cookie.
SECURITY_SCHEMES = {
    "bearerAuth": SecurityScheme(
        type="http",
        scheme="bearer",
        bearer_format="JWT",
        description="An access token from /auth/token, /auth/customer/verify, or a customer app.",
    ),
    "partnerApiKey": SecurityScheme(
        type="apiKey", name="X-API-KEY", security_scheme_in="header", description="The partner API key."
    ),
    "staffSession": SecurityScheme(
        type="apiKey",
        name="id",
        security_scheme_in="cookie",
        description="The staff UI's session cookie; writes also need X-CSRFToken.",
    ),
}
BEARER = [{"bearerAuth": []}]

FILES_PROPERTY = {
    "type": "array",
    "items": {"type": "string", "format": "binary"},
    "description": "Any number of files, each sent under the repeated field `attachments`.",
}


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """Replace msgspec's `$defs` references by the definitions themselves."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {key: _inline(value, defs) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(value, defs) for value in node]
    return node


def struct_schema(struct: type) -> dict[str, Any]:
    schema = msgspec.json.schema(struct)
    return _inline(schema, schema.pop("$defs", {}))


def body_operation(struct: type, *, with_files: bool) -> type[Operation]:
    """An Operation class whose request body is `struct` as JSON, and as a form with files."""
    schema = struct_schema(struct)
    content = {"application/json": OpenAPIMediaType(schema=schema)}  # type: ignore[arg-type]
    if with_files:
        form = copy.deepcopy(schema)
        form["properties"]["attachments"] = FILES_PROPERTY
        content["multipart/form-data"] = OpenAPIMediaType(schema=form)  # type: ignore[arg-type]
    body = RequestBody(content=content, required=True)

    @dataclass
    class BodyOperation(Operation):
        def __post_init__(self) -> None:
            self.request_body = body

    return BodyOperation


class ErrorDetail(msgspec.Struct):
    key: str
    message: str


class ErrorBody(msgspec.Struct):
    """Every error: the status code again, one sentence, and field problems for validation errors."""

    status_code: int
    detail: str
    extra: list[ErrorDetail] | None = None


_ERROR_DESCRIPTIONS = {
    400: "Invalid input or missing/invalid identity",
    401: "No valid credential (AUTH_MODE=token, or a bad bearer token): see WWW-Authenticate",
    403: "Wrong role, or invalid or missing API key",
    404: "Not found (or not the caller's), or an invalid page",
    409: "The ticket's state does not allow this, or a request with the same Idempotency-Key is in flight",
    413: "An attachment or the whole request is too large",
    415: "The body is neither JSON nor a form",
    422: "The Idempotency-Key was already used with a different request",
    429: "Too many requests; wait the seconds given in Retry-After (RateLimit-* headers where limited)",
}


def error_responses(*codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the errors an operation can answer with."""
    return {
        code: ResponseSpec(
            data_container=ErrorBody, description=_ERROR_DESCRIPTIONS[code], generate_examples=False
        )
        for code in codes
    }
