"""Agents see every ticket, filter and search, update, comment and count."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, patch, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery

from core.bodies import read_body, read_json_object, reject_unknown
from core.identity import Caller, Role, provide_caller, requires_role
from core.openapi import IDENTITY_PARAMETERS, body_operation, error_responses
from core.pagination import Page, build_page, page_request
from tickets.enums import Priority, Source, Status
from tickets.schemas import CommentCreate, CommentOut, TicketDetail, TicketOut, TicketStats, TicketUpdate
from tickets.services import Actor, TicketFilters, TicketService

UPDATE_OPERATION = body_operation(TicketUpdate, with_files=False)


class AdminTicketController(Controller):
    path = "/admin/tickets"
    tags = ["admin"]
    guards = [requires_role(Role.admin)]
    parameters = IDENTITY_PARAMETERS
    dependencies = {"caller": Provide(provide_caller)}

    @get(
        "/",
        operation_id="listAdminTickets",
        responses=error_responses(400, 403, 404),
        summary="All tickets, filtered and searched, newest first",
    )
    async def list_tickets(
        self,
        request: Request[Any, Any, Any],
        tickets: NamedDependency[TicketService],
        status: FromQuery[Status | None] = None,
        priority: FromQuery[Priority | None] = None,
        category: FromQuery[str | None] = None,
        assigned_to: FromQuery[str | None] = None,
        source: FromQuery[Source | None] = None,
        q: FromQuery[str | None] = None,
        page: FromQuery[str | None] = None,
        page_size: FromQuery[str | None] = None,
    ) -> Page[TicketOut]:
        settings = request.app.state.settings
        wanted = page_request(page, page_size, settings.page_size, settings.max_page_size)
        filters = TicketFilters(status, priority, category, assigned_to, source, q)
        count, results = await tickets.list_page(filters.where(), wanted)
        return build_page(request, wanted, count, results)

    @get(
        "/stats",
        operation_id="getTicketStats",
        responses=error_responses(400, 403),
        summary="Ticket counts by status, priority, source, category",
    )
    async def stats(self, tickets: NamedDependency[TicketService]) -> TicketStats:
        return await tickets.stats()

    @get(
        "/{ticket_id:int}",
        operation_id="getAdminTicket",
        responses=error_responses(400, 403, 404),
        summary="Any ticket with comments and attachments",
    )
    async def get_ticket(
        self, ticket_id: FromPath[int], tickets: NamedDependency[TicketService]
    ) -> TicketDetail:
        return await tickets.detail(ticket_id)

    @put(
        "/{ticket_id:int}",
        operation_id="updateTicket",
        responses=error_responses(400, 403, 404),
        summary="Change status, priority, category, assignee, title or description",
        operation_class=UPDATE_OPERATION,
    )
    async def update_ticket(
        self,
        request: Request[Any, Any, Any],
        ticket_id: FromPath[int],
        tickets: NamedDependency[TicketService],
        caller: NamedDependency[Caller],
    ) -> TicketDetail:
        return await self._update(request, ticket_id, tickets, caller)

    @patch(
        "/{ticket_id:int}",
        operation_id="patchTicket",
        responses=error_responses(400, 403, 404),
        summary="Same as PUT: a partial update",
        operation_class=UPDATE_OPERATION,
    )
    async def patch_ticket(
        self,
        request: Request[Any, Any, Any],
        ticket_id: FromPath[int],
        tickets: NamedDependency[TicketService],
        caller: NamedDependency[Caller],
    ) -> TicketDetail:
        return await self._update(request, ticket_id, tickets, caller)

    @post(
        "/{ticket_id:int}/comments",
        operation_id="commentOnAdminTicket",
        responses=error_responses(400, 403, 404, 415),
        summary="Add an agent comment",
        operation_class=body_operation(CommentCreate, with_files=False),
    )
    async def add_comment(
        self,
        request: Request[Any, Any, Any],
        ticket_id: FromPath[int],
        tickets: NamedDependency[TicketService],
        caller: NamedDependency[Caller],
    ) -> CommentOut:
        data, _ = await read_body(request, CommentCreate, files_allowed=False)
        return await tickets.add_comment(ticket_id, data, Actor(name=caller.email, role=Role.admin))

    @staticmethod
    async def _update(
        request: Request[Any, Any, Any],
        ticket_id: FromPath[int],
        tickets: NamedDependency[TicketService],
        caller: NamedDependency[Caller],
    ) -> TicketDetail:
        payload = await read_json_object(request)
        data = reject_unknown(payload, TicketUpdate)
        return await tickets.update(ticket_id, data, Actor(name=caller.email, role=Role.admin))
