"""The staff UI's view of the tickets area: table configs and the rules its edits obey.

Ticket edits made in the staff UI go through `TicketService.update`, as the API's do:
the same field rules, the same history event, in the same transaction.
"""

from __future__ import annotations

from typing import Any

import msgspec
from piccolo.columns import Column
from piccolo_admin.endpoints import OrderBy, TableConfig
from piccolo_api.crud.hooks import Hook, HookType
from piccolo_api.crud.validators import Validators
from starlette.exceptions import HTTPException
from starlette.requests import Request

from core.errors import DomainError
from core.identity import is_email
from tickets.admin_media import AttachmentDownloads
from tickets.enums import Priority, Role, Source, Status
from tickets.schemas import TicketUpdate
from tickets.services import Actor, TicketService
from tickets.tables import Category, Comment, Ticket, TicketAttachment, TicketEvent, utc_now

_CHOICES: dict[str, tuple[str, ...]] = {
    "status": tuple(Status),
    "priority": tuple(Priority),
    "source": tuple(Source),
    "role": tuple(Role),
}
_EMAILS = ("customer_id", "assigned_to")
_OPTIONAL_TEXT = ("customer_id", "assigned_to", "external_ref")
# The fields an agent may change through the API; the staff UI sends them to the service.
_SERVICE_FIELDS = frozenset(TicketUpdate.__struct_fields__)


def _refuse(message: str, field: str = "__root__") -> HTTPException:
    """A 422 shaped like a validation error, the one shape the admin's SPA shows as a message."""
    return HTTPException(
        status_code=422, detail=[{"loc": ["body", field], "msg": message, "type": "value_error"}]
    )


def _refuse_decoding(exc: msgspec.ValidationError) -> HTTPException:
    message, _, path = str(exc).partition(" - at `$.")
    return _refuse(message, path.rstrip("`") or "__root__")


def clean_values(values: dict[str, Any]) -> dict[str, Any]:
    """Apply the API's field rules to values coming from the staff UI."""
    for key in _OPTIONAL_TEXT:
        if isinstance(values.get(key), str):
            values[key] = values[key].strip() or None
    for key, allowed in _CHOICES.items():
        if key in values and values[key] not in allowed:
            raise _refuse(f"must be one of: {', '.join(allowed)}", key)
    for key in _EMAILS:
        if values.get(key) is not None and not is_email(values[key]):
            raise _refuse("must be an e-mail address", key)
    for key in ("title", "name", "message"):
        if key in values:
            values[key] = (values[key] or "").strip()
            if not values[key]:
                raise _refuse("may not be blank", key)
    return values


def by_name(values: dict[Any, Any]) -> dict[str, Any]:
    """Piccolo's CRUD hands hooks Column keys; the rules speak of field names."""
    return {key._meta.name if isinstance(key, Column) else key: value for key, value in values.items()}


def staff_actor(request: Request) -> Actor:
    """The signed-in staff user, as ticket history records them (e-mail, else username)."""
    user = request.user.user
    return Actor(name=user.email or user.username, role=Role.admin)


def _row_values(row: Any) -> dict[str, Any]:
    return {column._meta.name: getattr(row, column._meta.name) for column in row._meta.columns}


async def check_new_row(row: Any) -> Any:
    for key, value in clean_values(_row_values(row)).items():
        setattr(row, key, value)
    return row


async def check_patch(row_id: Any, values: dict[str, Any]) -> dict[str, Any]:
    return clean_values(by_name(values))


async def category_name(category_id: Any) -> str:
    row = await Category.select(Category.name).where(Category.id == category_id).first()
    if row is None:
        raise _refuse(f"category {category_id} does not exist", "category")
    return row["name"]


def ticket_update_hook(service: TicketService):
    """A pre_patch hook that sends the API's fields through `TicketService.update`."""

    async def update_ticket(row_id: Any, values: dict[Any, Any], request: Request) -> dict[str, Any]:
        values = by_name(values)
        wanted = {key: values.pop(key) for key in list(values) if key in _SERVICE_FIELDS}
        rest = clean_values(values)
        if "category" in wanted:
            wanted["category"] = await category_name(wanted["category"])
        if isinstance(wanted.get("assigned_to"), str):
            wanted["assigned_to"] = wanted["assigned_to"].strip() or None
        clean_values({key: wanted[key] for key in ("assigned_to", "status", "priority") if key in wanted})
        try:
            update = msgspec.convert(wanted, TicketUpdate)
            await service.update(int(row_id), update, staff_actor(request))
        except msgspec.ValidationError as exc:
            raise _refuse_decoding(exc) from None
        except DomainError as exc:
            raise _refuse(exc.detail) from None
        # What is left is written by the admin itself; `updated_at` is the service's to move.
        rest.pop("updated_at", None)
        rest.pop("id", None)
        rest["updated_at"] = utc_now()
        return rest

    return update_ticket


async def refuse_used_category(row_id: Any) -> None:
    in_use = await Ticket.count().where(Ticket.category == row_id)
    if in_use:
        name = await Category.select(Category.name).where(Category.id == row_id).first()
        label = name["name"] if name else row_id
        raise HTTPException(
            status_code=409,
            detail=f"Category '{label}' is used by {in_use} ticket(s); move them to another category first.",
        )


def superusers_only(action: str):
    def validator(piccolo_crud: Any, request: Request) -> None:
        if not request.user.user.superuser:
            raise HTTPException(status_code=403, detail=f"Only superusers can {action}.")

    return validator


def read_only(piccolo_crud: Any, request: Request) -> None:
    raise HTTPException(status_code=405, detail="Ticket history is read-only; it records what happened.")


VALIDATING_HOOKS = [Hook(HookType.pre_save, check_new_row), Hook(HookType.pre_patch, check_patch)]
_READ_ONLY = Validators(
    post_single=[read_only], put_single=[read_only], patch_single=[read_only], delete_single=[read_only]
)


def ticket_table_configs(service: TicketService) -> list[TableConfig]:
    return [
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
                Ticket.title,
                Ticket.customer_id,
                Ticket.created_at,
            ],
            # The number opens the ticket: Piccolo Admin 1.14 renders the primary key only
            # as the link column (any other link column breaks the list), and agents need
            # the numbers for the forms.
            link_column=Ticket.id,
            order_by=[OrderBy(Ticket.created_at, ascending=False)],
            hooks=[
                Hook(HookType.pre_save, check_new_row),
                Hook(HookType.pre_patch, ticket_update_hook(service)),
            ],
            validators=Validators(delete_single=[superusers_only("delete tickets")]),
            menu_group="Helpdesk",
        ),
        TableConfig(
            Comment,
            visible_columns=[
                Comment.id,
                Comment.ticket,
                Comment.author,
                Comment.role,
                Comment.message,
                Comment.created_at,
            ],
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
                TicketAttachment.file,
                TicketAttachment.content_type,
                TicketAttachment.size,
                TicketAttachment.created_at,
            ],
            visible_filters=[TicketAttachment.ticket, TicketAttachment.original_name],
            order_by=[OrderBy(TicketAttachment.created_at, ascending=False)],
            media_storage=[AttachmentDownloads(TicketAttachment.file, service.store)],
            menu_group="Helpdesk",
        ),
        TableConfig(
            Category,
            visible_columns=[Category.id, Category.name],
            order_by=[OrderBy(Category.name)],
            hooks=[*VALIDATING_HOOKS, Hook(HookType.pre_delete, refuse_used_category)],
            validators=Validators(delete_single=[superusers_only("delete categories")]),
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
                TicketEvent.changes,
                TicketEvent.created_at,
            ],
            visible_filters=[TicketEvent.ticket, TicketEvent.kind, TicketEvent.actor],
            order_by=[OrderBy(TicketEvent.created_at, ascending=False)],
            validators=_READ_ONLY,
            menu_group="Helpdesk",
        ),
    ]
