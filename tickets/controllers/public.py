"""What needs no identity: the category list and attachment downloads."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import File

from core.openapi import error_responses
from tickets import queries
from tickets.schemas import CategoryOut
from tickets.services import TicketService

# Served as a download, never rendered: an uploaded HTML file stays inert.
DOWNLOAD_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}


class PublicController(Controller):
    tags = ["public"]

    @get("/categories", operation_id="listCategories", summary="All categories, in id order")
    async def list_categories(self) -> list[CategoryOut]:
        return await queries.list_categories()

    @get(
        "/media/{path:path}",
        operation_id="downloadAttachment",
        responses=error_responses(404),
        summary="Download an attachment: the exact bytes uploaded",
    )
    async def download_attachment(self, path: FromPath[str], tickets: NamedDependency[TicketService]) -> File:
        file, row = await tickets.attachment(path.lstrip("/"))
        return File(
            path=file,
            filename=row["original_name"],
            media_type=row["content_type"],
            content_disposition_type="attachment",
            headers=DOWNLOAD_HEADERS,
        )
