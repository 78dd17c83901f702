"""Customers open and follow their own tickets."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from core.bodies import read_body
from core.identity import Caller, Role, provide_caller, requires_role
from core.openapi import BEARER, IDENTITY_PARAMETERS, body_operation, error_responses
from core.pagination import Page, PageRequest, build_page, provide_page_request
from partners.guards import limit_customer_rate, provide_idempotency
from partners.idempotency import IDEMPOTENCY_KEY_HEADER, Idempotency
from partners.ratelimit import RATE_LIMIT_RESPONSE_HEADERS
from tickets.queries import owned_by
from tickets.schemas import CommentCreate, CommentOut, TicketCreate, TicketDetail, TicketOut
from tickets.services import Actor, TicketService


class CustomerTicketController(Controller):
    path = "/customer/tickets"
    tags = ["customer"]
    guards = [requires_role(Role.customer), limit_customer_rate]
    response_headers = RATE_LIMIT_RESPONSE_HEADERS
    parameters = IDENTITY_PARAMETERS
    security = BEARER
    dependencies = {
        "caller": Provide(provide_caller),
        "paging": Provide(provide_page_request),
        "idempotency": Provide(provide_idempotency),
    }

    @post(
        "/",
        operation_id="createCustomerTicket",
        responses=error_responses(400, 401, 403, 409, 413, 415, 422, 429),
        summary="Open a ticket (JSON, or multipart with `attachments` files)",
        operation_class=body_operation(TicketCreate, with_files=True),
    )
    async def create_ticket(
        self,
        request: Request[Any, Any, Any],
        tickets: NamedDependency[TicketService],
        caller: NamedDependency[Caller],
        idempotency: NamedDependency[Idempotency],
        idempotency_key: Annotated[str | None, IDEMPOTENCY_KEY_HEADER] = None,
    ) -> Response[TicketDetail]:
        data, files = await read_body(request, TicketCreate)

        async def open_ticket() -> tuple[int, TicketDetail]:
            return 201, await tickets.open_for_customer(data, files, caller.email)

        scope = f"customer:{caller.email.lower()}"
        return await idempotency.run(request, scope, idempotency_key, open_ticket)

    @get(
        "/",
        operation_id="listCustomerTickets",
        responses=error_responses(400, 401, 403, 404),
        summary="The caller's own tickets, newest first",
    )
    async def list_tickets(
        self,
        request: Request[Any, Any, Any],
        tickets: NamedDependency[TicketService],
        caller: NamedDependency[Caller],
        paging: NamedDependency[PageRequest],
    ) -> Page[TicketOut]:
        count, results = await tickets.list_page([owned_by(caller.email)], paging)
        return build_page(request, paging, count, results)

    @get(
        "/{ticket_id:int}",
        operation_id="getCustomerTicket",
        responses=error_responses(400, 401, 403, 404),
        summary="One own ticket with comments",
    )
    async def get_ticket(
        self,
        ticket_id: FromPath[int],
        tickets: NamedDependency[TicketService],
        caller: NamedDependency[Caller],
    ) -> TicketDetail:
        return await tickets.detail(ticket_id, [owned_by(caller.email)])

    @post(
        "/{ticket_id:int}/comments",
        operation_id="commentOnCustomerTicket",
        responses=error_responses(400, 401, 403, 404, 413, 415),
        summary="Add a comment to an own ticket",
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
        actor = Actor(name=caller.email, role=Role.customer)
        return await tickets.add_comment(ticket_id, data, actor, [owned_by(caller.email)])

    @post(
        "/{ticket_id:int}/close",
        status_code=200,
        operation_id="closeCustomerTicket",
        responses=error_responses(400, 401, 403, 404, 409),
        summary="Close an own ticket once it is resolved",
    )
    async def close_ticket(
        self,
        ticket_id: FromPath[int],
        tickets: NamedDependency[TicketService],
        caller: NamedDependency[Caller],
    ) -> TicketDetail:
        actor = Actor(name=caller.email, role=Role.customer)
        return await tickets.close_by_customer(ticket_id, actor, [owned_by(caller.email)])
