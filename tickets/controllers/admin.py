"""Agents see every ticket, filter and search, update, comment and count."""

from __future__ import annotations

from typing import Any

from litestar import Controller, HttpMethod, Request, get, post, route
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from core.bodies import read_body, read_json_object, reject_unknown
from core.identity import Caller, Role, provide_caller, requires_role
from core.openapi import BEARER, IDENTITY_PARAMETERS, body_operation, error_responses
from core.pagination import Page, PageRequest, build_page, provide_page_request
from tickets.dependencies import provide_ticket_filters
from tickets.schemas import CommentCreate, CommentOut, TicketDetail, TicketOut, TicketStats, TicketUpdate
from tickets.services import Actor, TicketFilters, TicketService


class AdminTicketController(Controller):
    path = "/admin/tickets"
    tags = ["admin"]
    guards = [requires_role(Role.admin)]
    parameters = IDENTITY_PARAMETERS
    security = [*BEARER, {"staffSession": []}]
    dependencies = {
        "caller": Provide(provide_caller),
        "paging": Provide(provide_page_request),
        "filters": Provide(provide_ticket_filters),
    }

    @get(
        "/",
        operation_id="listAdminTickets",
        responses=error_responses(400, 401, 403, 404),
        summary="All tickets, filtered and searched, newest first",
    )
    async def list_tickets(
        self,
        request: Request[Any, Any, Any],
        tickets: NamedDependency[TicketService],
        filters: NamedDependency[TicketFilters],
        paging: NamedDependency[PageRequest],
    ) -> Page[TicketOut]:
        count, results = await tickets.list_page(filters.where(), paging)
        return build_page(request, paging, count, results)

    @get(
        "/stats",
        operation_id="getTicketStats",
        responses=error_responses(400, 401, 403),
        summary="Ticket counts by status, priority, source, category",
    )
    async def stats(self, tickets: NamedDependency[TicketService]) -> TicketStats:
        return await tickets.stats()

    @get(
        "/{ticket_id:int}",
        operation_id="getAdminTicket",
        responses=error_responses(400, 401, 403, 404),
        summary="Any ticket with comments and attachments",
    )
    async def get_ticket(
        self, ticket_id: FromPath[int], tickets: NamedDependency[TicketService]
    ) -> TicketDetail:
        return await tickets.detail(ticket_id)

    @route(
        "/{ticket_id:int}",
        http_method=[HttpMethod.PUT, HttpMethod.PATCH],
        operation_id=lambda _handler, method, _path: "updateTicket" if method == "PUT" else "patchTicket",
        responses=error_responses(400, 401, 403, 404, 413, 415),
        summary="Partial update of status, priority, category, assignee, title or description",
        operation_class=body_operation(TicketUpdate, with_files=False),
    )
    async def update_ticket(
        self,
        request: Request[Any, Any, Any],
        ticket_id: FromPath[int],
        tickets: NamedDependency[TicketService],
        caller: NamedDependency[Caller],
    ) -> TicketDetail:
        data = reject_unknown(await read_json_object(request), TicketUpdate)
        return await tickets.update(ticket_id, data, Actor(name=caller.email, role=Role.admin))

    @post(
        "/{ticket_id:int}/comments",
        operation_id="commentOnAdminTicket",
        responses=error_responses(400, 401, 403, 404, 413, 415),
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
