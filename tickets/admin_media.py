"""Attachment downloads in the staff UI, through the API's download endpoint.

Piccolo Admin's own local storage serves files inline from the admin's origin, so an
uploaded HTML file would run next to the staff session. These links go to
`/media/...` instead, which always answers with `Content-Disposition: attachment`.
"""

from __future__ import annotations

from typing import IO, Any

from piccolo_api.media.base import MediaStorage

from tickets.storage import AttachmentStore


class AttachmentDownloads(MediaStorage):
    """Read-only: files arrive with tickets through the API and stay with them."""

    def __init__(self, column: Any, store: AttachmentStore) -> None:
        super().__init__(column=column, allowed_extensions=None, allowed_characters=None)
        self.store = store

    def __hash__(self) -> int:
        return hash(("attachment-downloads", str(self.store.root)))

    def __eq__(self, value: object) -> bool:
        return isinstance(value, AttachmentDownloads) and hash(value) == hash(self)

    async def store_file(self, file_name: str, file: IO, user: Any = None) -> str:
        raise ValueError("Attachments arrive with tickets through the API; they cannot be uploaded here.")

    async def generate_file_url(self, file_key: str, root_url: str, user: Any = None) -> str:
        return f"/media/{file_key}"

    async def get_file(self, file_key: str) -> IO | None:
        path = self.store.resolve(file_key)
        return path.open("rb") if path is not None and path.is_file() else None

    async def delete_file(self, file_key: str) -> None:
        raise ValueError("Attachments stay with their ticket.")

    async def bulk_delete_files(self, file_keys: list[str]) -> None:
        raise ValueError("Attachments stay with their ticket.")

    async def get_file_keys(self) -> list[str]:
        return await self.get_file_keys_from_db()
