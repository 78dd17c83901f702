"""Value sets shared by the tables, the API schemas and the staff UI."""

from enum import StrEnum

from core.identity import Role

__all__ = ["EventKind", "Priority", "Role", "Source", "Status"]


class Source(StrEnum):
    customer = "customer"
    external = "external"


class Priority(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


class Status(StrEnum):
    open = "open"
    in_progress = "in_progress"
    resolved = "resolved"
    closed = "closed"


class EventKind(StrEnum):
    created = "created"
    updated = "updated"
    commented = "commented"
    closed = "closed"
