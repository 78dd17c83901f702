"""Agent actions in the staff UI (Piccolo Admin forms), done through `TicketService`.

Each form checks everything before it changes anything, and answers with a sentence
that says what it did. A `ValueError` is shown to the agent as the form's error.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from piccolo.apps.user.tables import BaseUser
from piccolo_admin.endpoints import FormConfig
from pydantic import BaseModel, Field
from starlette.requests import Request

from core.errors import DomainError
from tickets.admin import staff_actor
from tickets.enums import Status
from tickets.queries import valid_id
from tickets.schemas import CommentCreate, TicketUpdate
from tickets.services import TicketService
from tickets.tables import Ticket

MAX_TICKETS_PER_FORM = 100
MAX_LISTED_STAFF = 8
_ID_SEPARATORS = re.compile(r"[\s,;]+")


class StaffDirectory:
    """The active staff e-mails listed for the assignee, refreshed whenever a form is opened.

    Pydantic builds the form's schema synchronously, so the list is read from the
    database beforehand (see `core.staff`) and only looked up here.
    """

    def __init__(self) -> None:
        self.emails: tuple[str, ...] = ()

    async def refresh(self) -> None:
        self.emails = tuple(await active_staff_emails())

    def assignee_schema(self, schema: dict[str, Any]) -> None:
        """Piccolo Admin's forms draw no dropdowns and no help text, so the label lists them."""
        shown = ", ".join(self.emails[:MAX_LISTED_STAFF]) or "none yet"
        more = (
            f" and {len(self.emails) - MAX_LISTED_STAFF} more" if len(self.emails) > MAX_LISTED_STAFF else ""
        )
        schema["title"] = f"Assignee: the e-mail of an active staff user ({shown}{more})"


STAFF_DIRECTORY = StaffDirectory()


async def active_staff_emails() -> list[str]:
    rows = (
        await BaseUser.select(BaseUser.email)
        .where(BaseUser.active.eq(True), BaseUser.admin.eq(True), BaseUser.email.is_not_null())
        .order_by(BaseUser.email)
    )
    return [r["email"] for r in rows if r["email"]]


_IDS = "Ticket numbers, separated by commas or spaces (e.g. 12, 15, 18)"


class AssignTicketsForm(BaseModel):
    ticket_ids: str = Field(title=_IDS)
    assignee: str = Field(json_schema_extra=STAFF_DIRECTORY.assignee_schema)


class ChangeStatusForm(BaseModel):
    ticket_ids: str = Field(title=_IDS)
    status: str = Field(title=f"New status: one of {', '.join(Status)}")


class ReplyForm(BaseModel):
    ticket_id: int = Field(title="Ticket number")
    message: str = Field(title="Message to the customer (shown with the ticket, signed with your e-mail)")


def parse_ticket_ids(raw: str) -> list[int]:
    """'12, 15 18' -> [12, 15, 18]: each a ticket number, in order, without repeats."""
    parts = [p for p in _ID_SEPARATORS.split(raw.strip()) if p]
    if not parts:
        raise ValueError("Enter at least one ticket number.")
    bad = [p for p in parts if not p.lstrip("#").isdigit()]
    if bad:
        raise ValueError(f"Not ticket numbers: {', '.join(bad[:5])}. Use numbers like 12, 15, 18.")
    ids = list(dict.fromkeys(int(p.lstrip("#")) for p in parts))
    if len(ids) > MAX_TICKETS_PER_FORM:
        raise ValueError(f"At most {MAX_TICKETS_PER_FORM} tickets at once.")
    return ids


def _numbers(ids: list[int]) -> str:
    return ", ".join(f"#{i}" for i in ids)


async def _current(ids: list[int], column: Any) -> dict[int, Any]:
    """The tickets' current values of one column; unknown numbers stop the form before any change."""
    known = [i for i in ids if valid_id(i)]
    rows = (
        await Ticket.select(Ticket.id, column.as_alias("value")).where(Ticket.id.is_in(known))
        if known
        else []
    )
    found = {r["id"]: r["value"] for r in rows}
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValueError(f"No such ticket: {_numbers(missing)}. Nothing was changed.")
    return found


async def _update_each(
    service: TicketService, request: Request, ids: list[int], field: str, value: str
) -> tuple[list[int], list[int]]:
    """Apply one change to each ticket through the service; answer (changed, already so)."""
    try:
        update = msgspec.convert({field: value}, TicketUpdate)
    except msgspec.ValidationError as exc:
        raise ValueError(f"Invalid {field}: {exc}") from None
    current = await _current(ids, getattr(Ticket, field))
    changed = [i for i in ids if current[i] != value]
    actor = staff_actor(request)
    for ticket_id in changed:
        try:
            await service.update(ticket_id, update, actor)
        except DomainError as exc:
            raise ValueError(f"Ticket #{ticket_id}: {exc.detail}") from None
    return changed, [i for i in ids if i not in changed]


def _summary(done: str, changed: list[int], unchanged: list[int], already: str) -> str:
    parts = [f"{done} {_numbers(changed)}." if changed else "Nothing to change."]
    if unchanged:
        parts.append(f"{already}: {_numbers(unchanged)}.")
    return " ".join(parts)


def ticket_forms(service: TicketService) -> list[FormConfig]:
    async def assign_tickets(request: Request, data: AssignTicketsForm) -> str:
        ids = parse_ticket_ids(data.ticket_ids)
        assignee = data.assignee.strip()
        if assignee not in await active_staff_emails():
            raise ValueError(f"'{assignee}' is not an active staff user; choose one from the list.")
        changed, unchanged = await _update_each(service, request, ids, "assigned_to", assignee)
        return _summary(f"Assigned to {assignee}:", changed, unchanged, "Already theirs")

    async def change_status(request: Request, data: ChangeStatusForm) -> str:
        ids = parse_ticket_ids(data.ticket_ids)
        status = data.status.strip()
        if status not in tuple(Status):
            raise ValueError(f"Status must be one of: {', '.join(Status)}.")
        changed, unchanged = await _update_each(service, request, ids, "status", status)
        return _summary(f"Status set to {status}:", changed, unchanged, f"Already {status}")

    async def reply_to_customer(request: Request, data: ReplyForm) -> str:
        try:
            comment = msgspec.convert({"message": data.message}, CommentCreate)
            saved = await service.add_comment(data.ticket_id, comment, staff_actor(request))
        except msgspec.ValidationError as exc:
            raise ValueError(f"The reply is not valid: {exc}") from None
        except DomainError as exc:
            raise ValueError(f"Ticket #{data.ticket_id}: {exc.detail}") from None
        return f"Replied on ticket #{data.ticket_id} as {saved.author}."

    return [
        FormConfig(
            name="Assign tickets",
            pydantic_model=AssignTicketsForm,
            endpoint=assign_tickets,
            description="Give one or more tickets to a staff member. Recorded in each ticket's history.",
            form_group="Agent actions",
        ),
        FormConfig(
            name="Change status",
            pydantic_model=ChangeStatusForm,
            endpoint=change_status,
            description="Move several tickets to a status at once. Recorded in each ticket's history.",
            form_group="Agent actions",
        ),
        FormConfig(
            name="Reply to customer",
            pydantic_model=ReplyForm,
            endpoint=reply_to_customer,
            description="Add a staff comment to a ticket, signed with your account.",
            form_group="Agent actions",
        ),
    ]
