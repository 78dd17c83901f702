"""Attachment files on disk: random names under MEDIA_ROOT/attachments/YYYY/MM/DD/."""

from __future__ import annotations

import os
import re
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from anyio import to_thread
from litestar.datastructures import UploadFile

from core.errors import BadRequest, PayloadTooLarge
from core.settings import human_size

_CONTENT_TYPE = re.compile(r"^[\w.+-]{1,50}/[\w.+-]{1,50}$")
_UNSAFE_NAME_CHARS = re.compile(r"[\x00-\x1f\x7f]")
NAME_MAX = 255
COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class StoredFile:
    path: str
    original_name: str
    content_type: str
    size: int


def display_name(filename: str | None) -> str:
    """The client's file name without any directory part or control characters."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = _UNSAFE_NAME_CHARS.sub("", name).strip()
    if name in ("", ".", ".."):
        return "attachment"
    return name[-NAME_MAX:]


def upload_size(upload: UploadFile) -> int:
    upload.file.seek(0, 2)
    size = upload.file.tell()
    upload.file.seek(0)
    return size


class AttachmentStore:
    def __init__(self, root: Path, max_file_bytes: int, max_files: int) -> None:
        self.root = root
        self.max_file_bytes = max_file_bytes
        self.max_files = max_files

    def check(self, uploads: list[UploadFile]) -> None:
        """Refuse the whole request before anything is written."""
        if len(uploads) > self.max_files:
            raise BadRequest(f"Too many attachments; at most {self.max_files} files per request")
        limit = human_size(self.max_file_bytes)
        for upload in uploads:
            if upload_size(upload) > self.max_file_bytes:
                raise PayloadTooLarge(f"Attachment '{display_name(upload.filename)}' is larger than {limit}")

    def resolve(self, relative: str) -> Path | None:
        """The file for a stored path, or None if the path could escape the media root."""
        parts = PurePosixPath(relative).parts
        if not parts or parts[0] != "attachments" or any(p in ("..", "") for p in parts):
            return None
        return self.root.joinpath(*parts)

    async def save_all(self, uploads: list[UploadFile]) -> list[StoredFile]:
        stored: list[StoredFile] = []
        try:
            for upload in uploads:
                stored.append(await to_thread.run_sync(self._save, upload))
        except BaseException:
            self.remove(stored)
            raise
        return stored

    def _save(self, upload: UploadFile) -> StoredFile:
        folder = PurePosixPath("attachments", datetime.now(UTC).strftime("%Y/%m/%d"))
        relative = folder / secrets.token_hex(16)
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        upload.file.seek(0)
        with target.open("xb") as out:
            shutil.copyfileobj(upload.file, out, COPY_CHUNK)
            size = out.tell()
            # On disk before the row that points at it commits: an acknowledged file survives a crash.
            out.flush()
            os.fsync(out.fileno())
        content_type = upload.content_type if _CONTENT_TYPE.match(upload.content_type or "") else ""
        return StoredFile(
            path=str(relative),
            original_name=display_name(upload.filename),
            content_type=content_type or "application/octet-stream",
            size=size,
        )

    def remove(self, stored: list[StoredFile]) -> None:
        for item in stored:
            path = self.resolve(item.path)
            if path is not None:
                path.unlink(missing_ok=True)
