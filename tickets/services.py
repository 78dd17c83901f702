"""The rules of the helpdesk: who may do what to a ticket, and what gets recorded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar.datastructures import UploadFile
from piccolo.engine.base import Engine

from core.bodies import has_nul
from core.db import is_unique_violation, write_transaction
from core.errors import BadRequest, Conflict, FieldError, NotFound, invalid_fields
from core.metrics import COMMENTS_ADDED, TICKETS_CREATED
from core.pagination import PageRequest, check_in_range
from core.settings import Settings, get_settings
from partners.keys import AuthenticatedPartner
from partners.webhooks import enqueue_ticket_events
from tickets import queries
from tickets.enums import EventKind, Role, Source, Status
from tickets.queries import MediaUrl
from tickets.schemas import (
    CommentCreate,
    CommentOut,
    ExternalTicketCreate,
    ExternalTicketReceipt,
    TicketCreate,
    TicketDetail,
    TicketOut,
    TicketStats,
    TicketUpdate,
)
from tickets.storage import AttachmentStore, StoredFile
from tickets.tables import Category, Comment, Ticket, TicketAttachment, TicketEvent, utc_now

TICKET_NOT_FOUND = "Ticket not found"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change, as recorded in the ticket's history."""

    name: str
    role: str


@dataclass(frozen=True, slots=True)
class TicketFilters:
    status: Status | None = None
    priority: str | None = None
    category: str | None = None
    assigned_to: str | None = None
    source: Source | None = None
    q: str | None = None

    def __post_init__(self) -> None:
        texts = {"category": self.category, "assigned_to": self.assigned_to, "q": self.q}
        bad = [key for key, value in texts.items() if has_nul(value)]
        if bad:
            raise invalid_fields([FieldError(key, "Null characters are not allowed.") for key in bad])

    def where(self) -> list[Any]:
        clauses: list[Any] = []
        if self.status is not None:
            clauses.append(Ticket.status == self.status.value)
        if self.priority is not None:
            clauses.append(Ticket.priority == self.priority)
        if self.category is not None:
            clauses.append(Ticket.category.name == self.category)
        if self.assigned_to is not None:
            clauses.append(Ticket.assigned_to == self.assigned_to)
        if self.source is not None:
            clauses.append(Ticket.source == self.source.value)
        if self.q:
            clauses.append(queries.text_search(self.q))
        return clauses


class TicketService:
    def __init__(
        self, engine: Engine, store: AttachmentStore, media_url: MediaUrl, settings: Settings | None = None
    ) -> None:
        self.engine = engine
        self.store = store
        self.media_url = media_url
        self.settings = settings or get_settings()

    # Reads

    async def list_page(self, where: Sequence[Any], page: PageRequest) -> tuple[int, list[TicketOut]]:
        count = await queries.count_tickets(where)
        check_in_range(page, count)
        return count, await queries.list_tickets(where, page)

    async def detail(self, ticket_id: int, where: Sequence[Any] = ()) -> TicketDetail:
        row = await queries.find_ticket(ticket_id, where)
        if row is None:
            raise NotFound(TICKET_NOT_FOUND)
        return await queries.ticket_detail(row, self.media_url)

    async def stats(self) -> TicketStats:
        return await queries.ticket_stats()

    async def attachment(self, relative: str) -> tuple[Path, dict[str, Any]]:
        """The file and its row for a download path; anything else is a 404."""
        path = self.store.resolve(relative)
        row = await queries.find_attachment(relative) if path is not None else None
        if path is None or row is None or not path.is_file():
            raise NotFound("Attachment not found")
        return path, row

    # Writes

    async def open_for_customer(
        self, data: TicketCreate, uploads: list[UploadFile], customer: str
    ) -> TicketDetail:
        actor = Actor(name=customer, role=Role.customer)
        ticket_id, _ = await self._create(data, uploads, actor, Source.customer, customer)
        return await self.detail(ticket_id)

    async def ingest_external(
        self, data: ExternalTicketCreate, uploads: list[UploadFile], partner: AuthenticatedPartner
    ) -> tuple[int, ExternalTicketReceipt]:
        """201 and a new ticket, or 200 and the ticket this partner already sent with that external_ref.

        The unique index on (partner, external_ref) decides between concurrent
        senders: the losers' inserts fail, their files are removed, and they
        answer with the winner's ticket.
        """
        existing = await queries.find_partner_ticket(partner.id, data.external_ref)
        if existing is None:
            actor = Actor(name=partner.name, role=Source.external)
            try:
                ticket_id, _ = await self._create(
                    data, uploads, actor, Source.external, data.customer_id, partner.id
                )
                return 201, await queries.external_receipt(ticket_id, self.media_url)
            except Exception as error:
                if not is_unique_violation(error):
                    raise
            existing = await queries.find_partner_ticket(partner.id, data.external_ref)
            if existing is None:
                raise RuntimeError("A duplicate external_ref was refused but its ticket cannot be found")
        return 200, await queries.external_receipt(existing, self.media_url)

    async def _create(
        self,
        data: TicketCreate,
        uploads: list[UploadFile],
        actor: Actor,
        source: Source,
        customer_id: str | None,
        partner_id: int | None = None,
    ) -> tuple[int, list[StoredFile]]:
        """Store the files, then the ticket and its attachment rows in one transaction."""
        self.store.check(uploads)
        category_id = await self._category_id(data.category)
        stored = await self.store.save_all(uploads)
        try:
            async with write_transaction(self.engine):
                ticket = Ticket(
                    source=source,
                    external_ref=data.external_ref if isinstance(data, ExternalTicketCreate) else None,
                    title=data.title,
                    description=data.description,
                    priority=data.priority,
                    status=Status.open,
                    category=category_id,
                    customer_id=customer_id,
                    partner=partner_id,
                )
                await ticket.save()
                if stored:
                    await TicketAttachment.insert(
                        *(
                            TicketAttachment(
                                ticket=ticket.id,
                                file=f.path,
                                original_name=f.original_name,
                                content_type=f.content_type,
                                size=f.size,
                            )
                            for f in stored
                        )
                    )
                await self._record(ticket.id, EventKind.created, actor, {"status": [None, Status.open]})
        except BaseException:
            self.store.remove(stored)
            raise
        TICKETS_CREATED.labels(source.value).inc()
        return ticket.id, stored

    async def update(self, ticket_id: int, data: TicketUpdate, actor: Actor) -> TicketDetail:
        """Write only the fields that were sent and differ; record before and after."""
        wanted = data.changes()
        async with write_transaction(self.engine):
            current = await queries.find_ticket(ticket_id)
            if current is None:
                raise NotFound(TICKET_NOT_FOUND)
            values: dict[Any, Any] = {}
            changes: dict[str, list[Any]] = {}
            for field, value in wanted.items():
                if current[field] == value:
                    continue
                changes[field] = [current[field], value]
                column = getattr(Ticket, field)
                values[column] = await self._category_id(value) if field == "category" else value
            if values:
                await Ticket.update(values).where(Ticket.id == ticket_id)
                await self._record(ticket_id, EventKind.updated, actor, changes)
        return await self.detail(ticket_id)

    async def add_comment(
        self, ticket_id: int, data: CommentCreate, actor: Actor, where: Sequence[Any] = ()
    ) -> CommentOut:
        async with write_transaction(self.engine):
            # Touching the ticket first takes its row lock, so comments on one ticket are
            # written one at a time and a time taken under the lock rises with the id.
            touched = queries.valid_id(ticket_id) and (
                await Ticket.update({Ticket.updated_at: utc_now()})
                .where(Ticket.id == ticket_id, *where)
                .returning(Ticket.id)
            )
            if not touched:
                raise NotFound(TICKET_NOT_FOUND)
            now = utc_now()
            comment = Comment(
                ticket=ticket_id, author=actor.name, role=actor.role, message=data.message, created_at=now
            )
            await comment.save()
            # The ticket's updated_at is its newest comment's time exactly.
            await Ticket.update({Ticket.updated_at: now}, use_auto_update=False).where(Ticket.id == ticket_id)
            await self._record(ticket_id, EventKind.commented, actor, {"comment_id": [None, comment.id]})
        COMMENTS_ADDED.labels(str(actor.role)).inc()
        return CommentOut(
            id=comment.id,
            ticket_id=ticket_id,
            author=comment.author,
            role=Role(comment.role),
            message=comment.message,
            created_at=comment.created_at,
        )

    async def close_by_customer(self, ticket_id: int, actor: Actor, where: Sequence[Any]) -> TicketDetail:
        """A customer may close only a resolved ticket; closing twice is harmless.

        The conditional update decides, so of many concurrent closes exactly one
        records the change and all of them see a closed ticket.
        """
        async with write_transaction(self.engine):
            closed = queries.valid_id(ticket_id) and (
                await Ticket.update({Ticket.status: Status.closed})
                .where(Ticket.id == ticket_id, Ticket.status == Status.resolved, *where)
                .returning(Ticket.id)
            )
            if closed:
                changes = {"status": [Status.resolved, Status.closed]}
                await self._record(ticket_id, EventKind.closed, actor, changes)
        detail = await self.detail(ticket_id, where)
        if detail.status != Status.closed:
            raise Conflict("Ticket can be closed by customer only when status=resolved")
        return detail

    # Helpers

    async def _category_id(self, name: str) -> int:
        row = await Category.select(Category.id).where(Category.name == name).first()
        if row is None:
            names = await queries.category_names()
            message = f"Unknown category '{name}'. Valid categories: {', '.join(names)}"
            raise BadRequest(message, extra=[{"key": "category", "message": message}])
        return row["id"]

    async def _record(self, ticket_id: int, kind: EventKind, actor: Actor, changes: dict[str, Any]) -> None:
        await TicketEvent.insert(
            TicketEvent(ticket=ticket_id, kind=kind, actor=actor.name, role=actor.role, changes=changes)
        )
        await enqueue_ticket_events(self.settings, ticket_id, kind, actor.role, changes)
