"""Page-number pagination with the prototype's body and its "Invalid page." rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import parse_qsl, urlencode

import msgspec
from litestar import Request
from litestar.params import QueryParameter

from core.errors import NotFound

T = TypeVar("T")


class Page(msgspec.Struct, Generic[T]):
    count: int
    next: str | None
    previous: str | None
    page: int
    page_size: int
    results: list[T]


@dataclass(frozen=True, slots=True)
class PageRequest:
    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def page_request(page: str | None, page_size: str | None, default_size: int, max_size: int) -> PageRequest:
    """Parse `?page=` and `?page_size=`; a bad page is a 404, a bad size falls back to the default."""
    number = 1
    if page is not None:
        try:
            number = int(page)
        except ValueError:
            raise NotFound("Invalid page.") from None
        if number < 1:
            raise NotFound("Invalid page.")
    size = default_size
    if page_size is not None:
        try:
            size = int(page_size)
        except ValueError:
            size = default_size
        size = default_size if size < 1 else min(size, max_size)
    return PageRequest(number=number, size=size)


def check_in_range(request: PageRequest, count: int) -> None:
    """Past the last page is a 404, except page 1 of an empty list."""
    last = max(1, -(-count // request.size))
    if request.number > last:
        raise NotFound("Invalid page.")


# Read as text so that a bad page is the contract's 404 "Invalid page.", not a validation error.
PageNumber = Annotated[
    str | None,
    QueryParameter(
        description="1-based page number; past the end, below 1 or not a number: 404 `Invalid page.`",
        schema_extra={"type": "integer", "minimum": 1, "one_of": None},
    ),
]
PageSize = Annotated[
    str | None,
    QueryParameter(
        description="Results per page (default API_PAGE_SIZE); larger values are capped at 100.",
        schema_extra={"type": "integer", "minimum": 1, "maximum": 100, "one_of": None},
    ),
]


async def provide_page_request(
    request: Request[Any, Any, Any],
    page: PageNumber = None,
    page_size: PageSize = None,
) -> PageRequest:
    """`?page=` (1-based) and `?page_size=` (default API_PAGE_SIZE, capped at 100)."""
    settings = request.app.state.settings
    return page_request(page, page_size, settings.page_size, settings.max_page_size)


def _page_url(request: Request[Any, Any, Any], number: int) -> str:
    # From the raw query string, so the client's parameter order is kept exactly.
    query = parse_qsl(request.url.query, keep_blank_values=True)
    params = [(k, v) for k, v in query if k != "page"]
    if number > 1:
        params.append(("page", str(number)))
    return str(request.url.with_replacements(query=urlencode(params)))


def build_page(request: Request[Any, Any, Any], page: PageRequest, count: int, results: list[T]) -> Page[T]:
    has_next = page.offset + len(results) < count
    return Page(
        count=count,
        next=_page_url(request, page.number + 1) if has_next else None,
        previous=_page_url(request, page.number - 1) if page.number > 1 else None,
        page=page.number,
        page_size=page.size,
        results=results,
    )
