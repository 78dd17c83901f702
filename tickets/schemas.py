"""Request and response shapes of the tickets API (msgspec Structs at the edge)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import UNSET, Meta, Struct, UnsetType

from core.errors import FieldError
from core.identity import EMAIL_MAX_LENGTH, EMAIL_PATTERN
from tickets.enums import Priority, Role, Source, Status

TITLE_MAX = 200
EXTERNAL_REF_MAX = 120
TEXT_MAX = 50_000
CATEGORY_MAX = 50

# Documented, not enforced by msgspec: `not_blank` and `convert` give clearer messages for these.
NO_NUL = {"pattern": "^[^\\x00]*$"}
NOT_BLANK = {"pattern": "^[^\\x00]*\\S[^\\x00]*$", "minLength": 1}

Title = Annotated[
    str, Meta(max_length=TITLE_MAX, description="Trimmed; must not be blank.", extra_json_schema=NOT_BLANK)
]
Text = Annotated[str, Meta(max_length=TEXT_MAX, extra_json_schema=NO_NUL)]
CategoryName = Annotated[
    str,
    Meta(
        max_length=CATEGORY_MAX,
        description="Name of an existing category (see GET /categories).",
        examples=["general", "billing", "technical"],
        extra_json_schema=NO_NUL,
    ),
]
Email = Annotated[
    str, Meta(max_length=EMAIL_MAX_LENGTH, pattern=EMAIL_PATTERN, description="An e-mail address.")
]
ExternalRef = Annotated[
    str,
    Meta(
        max_length=EXTERNAL_REF_MAX,
        description="The partner's own reference; trimmed, not blank.",
        extra_json_schema=NOT_BLANK,
    ),
]


def not_blank(key: str, value: str) -> str:
    """Trim surrounding white space; what is left must not be empty."""
    value = value.strip()
    if not value:
        raise FieldError(key, "This field may not be blank.")
    return value


class TicketCreate(Struct, kw_only=True):
    """A customer's new ticket."""

    title: Title
    description: Text = ""
    priority: Priority = Priority.medium
    category: CategoryName = "general"

    def __post_init__(self) -> None:
        self.title = not_blank("title", self.title)
        self.category = self.category.strip()


class ExternalTicketCreate(TicketCreate, kw_only=True):
    """A partner's new ticket; `external_ref` is the partner's own id for it."""

    external_ref: ExternalRef
    customer_id: Email | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.external_ref = not_blank("external_ref", self.external_ref)


class TicketUpdate(Struct, kw_only=True, forbid_unknown_fields=True):
    """A partial update by an agent: only the fields sent are changed."""

    status: Status | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    category: CategoryName | UnsetType = UNSET
    assigned_to: Email | UnsetType | None = UNSET
    title: Title | UnsetType = UNSET
    description: Text | UnsetType = UNSET

    def __post_init__(self) -> None:
        if self.title is not UNSET:
            self.title = not_blank("title", self.title)
        if self.category is not UNSET:
            self.category = self.category.strip()

    def changes(self) -> dict[str, object]:
        return {f: v for f in self.__struct_fields__ if (v := getattr(self, f)) is not UNSET}


class CommentCreate(Struct, kw_only=True):
    message: Annotated[
        str, Meta(max_length=TEXT_MAX, description="Trimmed; must not be blank.", extra_json_schema=NOT_BLANK)
    ]

    def __post_init__(self) -> None:
        self.message = not_blank("message", self.message)


class TicketOut(Struct, kw_only=True):
    id: int
    source: Source
    external_ref: str | None
    title: str
    description: str
    priority: Priority
    status: Status
    category: str
    customer_id: str | None
    assigned_to: str | None
    created_at: datetime
    updated_at: datetime


class CommentOut(Struct, kw_only=True):
    id: int
    ticket_id: int
    author: str
    role: Role
    message: str
    created_at: datetime


class AttachmentOut(Struct, kw_only=True):
    id: int
    url: str
    filename: str
    content_type: str
    size: int
    created_at: datetime


class TicketDetail(TicketOut, kw_only=True):
    comments: list[CommentOut]
    attachments: list[AttachmentOut]


class ExternalTicketReceipt(Struct, kw_only=True):
    ticket_id: int
    external_ref: str
    status: Status
    attachments: list[str]


class CategoryOut(Struct, kw_only=True):
    id: int
    name: str


class TicketStats(Struct, kw_only=True):
    by_status: dict[str, int]
    by_priority: dict[str, int]
    by_source: dict[str, int]
    by_category: dict[str, int]
