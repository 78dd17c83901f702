"""The staff UI's view of the tickets area: table configs and the rules its edits obey."""

from __future__ import annotations

from typing import Any

from piccolo_admin.endpoints import OrderBy, TableConfig
from piccolo_api.crud.hooks import Hook, HookType
from starlette.exceptions import HTTPException

from core.identity import is_email
from tickets.enums import Priority, Role, Source, Status
from tickets.tables import Category, Comment, Ticket, TicketAttachment, TicketEvent, utc_now

_CHOICES: dict[str, tuple[str, ...]] = {
    "status": tuple(Status),
    "priority": tuple(Priority),
    "source": tuple(Source),
    "role": tuple(Role),
}
_EMAILS = ("customer_id", "assigned_to")
_OPTIONAL_TEXT = ("customer_id", "assigned_to", "external_ref")


def _refuse(message: str) -> HTTPException:
    return HTTPException(status_code=422, detail=message)


def clean_values(values: dict[str, Any]) -> dict[str, Any]:
    """Apply the API's field rules to values coming from the staff UI."""
    for key in _OPTIONAL_TEXT:
        if isinstance(values.get(key), str):
            values[key] = values[key].strip() or None
    for key, allowed in _CHOICES.items():
        if key in values and values[key] not in allowed:
            raise _refuse(f"{key} must be one of: {', '.join(allowed)}")
    for key in _EMAILS:
        if values.get(key) is not None and not is_email(values[key]):
            raise _refuse(f"{key} must be an e-mail address")
    for key in ("title", "name", "message"):
        if key in values:
            values[key] = (values[key] or "").strip()
            if not values[key]:
                raise _refuse(f"{key} may not be blank")
    return values


def _row_values(row: Any) -> dict[str, Any]:
    return {column._meta.name: getattr(row, column._meta.name) for column in row._meta.columns}


async def check_new_row(row: Any) -> Any:
    for key, value in clean_values(_row_values(row)).items():
        setattr(row, key, value)
    return row


async def check_patch(row_id: Any, values: dict[str, Any]) -> dict[str, Any]:
    return clean_values(values)


async def touch_ticket(row_id: Any, values: dict[str, Any]) -> dict[str, Any]:
    values = clean_values(values)
    values["updated_at"] = utc_now()
    return values


async def refuse_used_category(row_id: Any) -> None:
    in_use = await Ticket.count().where(Ticket.category == row_id)
    if in_use:
        name = await Category.select(Category.name).where(Category.id == row_id).first()
        label = name["name"] if name else row_id
        raise HTTPException(
            status_code=409,
            detail=f"Category '{label}' is used by {in_use} ticket(s); move them to another category first.",
        )


VALIDATING_HOOKS = [Hook(HookType.pre_save, check_new_row), Hook(HookType.pre_patch, check_patch)]

TABLE_CONFIGS = [
    TableConfig(
        Ticket,
        visible_columns=[
            Ticket.id,
            Ticket.title,
            Ticket.status,
            Ticket.priority,
            Ticket.category,
            Ticket.customer_id,
            Ticket.assigned_to,
            Ticket.source,
            Ticket.partner,
            Ticket.created_at,
        ],
        visible_filters=[
            Ticket.status,
            Ticket.priority,
            Ticket.category,
            Ticket.assigned_to,
            Ticket.source,
            Ticket.partner,
            Ticket.customer_id,
            Ticket.title,
            Ticket.created_at,
        ],
        link_column=Ticket.title,
        order_by=[OrderBy(Ticket.created_at, ascending=False)],
        hooks=[Hook(HookType.pre_save, check_new_row), Hook(HookType.pre_patch, touch_ticket)],
        menu_group="Helpdesk",
    ),
    TableConfig(
        Comment,
        visible_columns=[Comment.id, Comment.ticket, Comment.author, Comment.role, Comment.created_at],
        visible_filters=[Comment.ticket, Comment.author, Comment.role],
        order_by=[OrderBy(Comment.created_at, ascending=False)],
        hooks=VALIDATING_HOOKS,
        menu_group="Helpdesk",
    ),
    TableConfig(
        TicketAttachment,
        visible_columns=[
            TicketAttachment.id,
            TicketAttachment.ticket,
            TicketAttachment.original_name,
            TicketAttachment.content_type,
            TicketAttachment.size,
            TicketAttachment.created_at,
        ],
        visible_filters=[TicketAttachment.ticket, TicketAttachment.original_name],
        order_by=[OrderBy(TicketAttachment.created_at, ascending=False)],
        menu_group="Helpdesk",
    ),
    TableConfig(
        Category,
        visible_columns=[Category.id, Category.name],
        order_by=[OrderBy(Category.name)],
        hooks=[*VALIDATING_HOOKS, Hook(HookType.pre_delete, refuse_used_category)],
        menu_group="Settings",
    ),
    TableConfig(
        TicketEvent,
        visible_columns=[
            TicketEvent.id,
            TicketEvent.ticket,
            TicketEvent.kind,
            TicketEvent.actor,
            TicketEvent.role,
            TicketEvent.created_at,
        ],
        visible_filters=[TicketEvent.ticket, TicketEvent.kind, TicketEvent.actor],
        order_by=[OrderBy(TicketEvent.created_at, ascending=False)],
        menu_group="Helpdesk",
    ),
]
