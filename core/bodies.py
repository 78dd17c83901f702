"""Request bodies: JSON or form (multipart with files), decoded into msgspec Structs.

One path accepts both media types, so handlers read the body themselves
instead of binding a typed `data` parameter.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec
from litestar import Request
from litestar.datastructures import UploadFile
from litestar.exceptions import ClientException, InternalServerException

from core.errors import BadRequest, DomainError, FieldError, invalid_fields

T = TypeVar("T")

_PATH = re.compile(r" - at `\$\.?([^`]*)`$")
_NAMED = re.compile(r"`([^`]+)`")


class UnsupportedMediaType(DomainError):
    status_code = 415


class ClientDisconnected(DomainError):
    """The client went away mid-body: nothing is stored; logged as nginx's 499, not as a 500."""

    status_code = 499


# What Litestar raises (as a 500) when the client disconnects while the body streams in.
_DISCONNECTED = "client disconnected prematurely"
# What Litestar raises (as a 400) when a form has more parts than `multipart_form_part_limit`.
_TOO_MANY_PARTS = "Request Entity Too Large"


async def _body(request: Request[Any, Any, Any]) -> bytes:
    try:
        return await request.body()
    except InternalServerException as error:
        if error.detail == _DISCONNECTED:
            raise ClientDisconnected("The client disconnected before sending the whole body") from None
        raise


def has_nul(value: Any) -> bool:
    return isinstance(value, str) and "\x00" in value


def _field_problem(error: msgspec.ValidationError) -> FieldError:
    """Turn msgspec's message ("Expected `int`, got `str` - at `$.priority`") into key + message."""
    cause = error.__cause__
    if isinstance(cause, FieldError):
        return cause
    text = str(error)
    match = _PATH.search(text)
    key = match.group(1) if match else ""
    message = text[: match.start()] if match else text
    if not key:
        named = _NAMED.search(message)
        key = named.group(1) if named and "field" in message else "body"
    return FieldError(key.split("[")[0].split(".")[0] or "body", message)


def convert(payload: dict[str, Any], type_: type[T], *, strict: bool = True) -> T:
    """Validate into `type_`; text holding NUL characters is refused (PostgreSQL cannot store it)."""
    with_nul = [FieldError(k, "Null characters are not allowed.") for k, v in payload.items() if has_nul(v)]
    if with_nul:
        raise invalid_fields(with_nul)
    try:
        return msgspec.convert(payload, type_, strict=strict)
    except msgspec.ValidationError as error:
        raise invalid_fields([_field_problem(error)]) from None


def _is_json(request: Request[Any, Any, Any]) -> bool:
    """JSON is the default: a JSON media type, or none given at all."""
    media_type = request.content_type[0]
    return media_type in ("", "application/json") or media_type.endswith("+json")


def _unsupported(accepted: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(f"Unsupported Content-Type; send {accepted}")


async def read_json_object(request: Request[Any, Any, Any]) -> dict[str, Any]:
    if not _is_json(request):
        raise _unsupported("application/json")
    body = await _body(request)
    try:
        payload = msgspec.json.decode(body) if body.strip() else None
    except msgspec.DecodeError as error:
        raise BadRequest(f"Malformed JSON: {error}") from None
    except RecursionError:
        raise BadRequest("Malformed JSON: nested too deeply") from None
    if not isinstance(payload, dict):
        raise BadRequest("The request body must be a JSON object")
    return payload


async def read_form(request: Request[Any, Any, Any]) -> tuple[dict[str, Any], list[Any]]:
    """Form fields (first value of each) and the repeated `attachments` files."""
    try:
        form = await request.form()
    except (UnicodeDecodeError, LookupError):
        raise BadRequest("Form fields must be UTF-8 text") from None
    except InternalServerException as error:
        if error.detail == _DISCONNECTED:
            raise ClientDisconnected("The client disconnected before sending the whole form") from None
        raise
    except ClientException as error:
        if error.status_code == 413:  # the body limit, hit while streaming the form
            raise
        if error.detail == _TOO_MANY_PARTS:
            limit = request.app.multipart_form_part_limit
            raise BadRequest(f"Too many form parts; at most {limit} (files and fields together)") from None
        raise BadRequest(f"Malformed form data: {error.detail}") from None
    attachments = form.getall("attachments", [])
    fields = {key: form.get(key) for key in form if key != "attachments"}
    problems = [
        FieldError(key, "Expected a text value, got a file.")
        for key, value in fields.items()
        if isinstance(value, UploadFile)
    ]
    if any(not isinstance(item, UploadFile) for item in attachments):
        problems.append(FieldError("attachments", "Each attachment must be a file."))
    if problems:
        raise invalid_fields(problems)
    return fields, attachments


def _without_blank_optionals(fields: dict[str, Any], type_: type[Any]) -> dict[str, Any]:
    """In forms an empty optional field means "not given"."""
    optional = {f.name for f in msgspec.structs.fields(type_) if not f.required}
    return {k: v for k, v in fields.items() if not (v == "" and k in optional)}


async def read_body(
    request: Request[Any, Any, Any], type_: type[T], *, files_allowed: bool = True
) -> tuple[T, list[UploadFile]]:
    """A JSON object, or a form whose fields are the same and whose files are `attachments`."""
    if _is_json(request):
        return convert(await read_json_object(request), type_), []
    if request.content_type[0] in ("multipart/form-data", "application/x-www-form-urlencoded"):
        fields, files = await read_form(request)
        if files and not files_allowed:
            raise invalid_fields([FieldError("attachments", "This endpoint does not take files.")])
        return convert(_without_blank_optionals(fields, type_), type_, strict=False), files
    raise _unsupported("application/json or multipart/form-data")


def reject_unknown(payload: dict[str, Any], type_: type[T]) -> T:
    """Convert, first refusing (and naming) every field the type does not have."""
    unknown = sorted(set(payload) - set(type_.__struct_fields__))  # type: ignore[attr-defined]
    if unknown:
        allowed = ", ".join(type_.__struct_fields__)  # type: ignore[attr-defined]
        raise BadRequest(
            f"Unknown field(s): {', '.join(unknown)}. Allowed: {allowed}",
            extra=[{"key": key, "message": "Unknown field."} for key in unknown],
        )
    return convert(payload, type_)
