"""Partner systems push tickets in with their API keys."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter

from core.bodies import read_body
from core.openapi import body_operation, error_responses
from partners.guards import provide_idempotency, provide_partner, requires_partner_key
from partners.idempotency import IDEMPOTENCY_KEY_HEADER, Idempotency
from partners.keys import AuthenticatedPartner
from partners.ratelimit import RATE_LIMIT_RESPONSE_HEADERS
from tickets.schemas import ExternalTicketCreate, ExternalTicketReceipt
from tickets.services import TicketService


class ExternalTicketController(Controller):
    path = "/external/tickets"
    tags = ["external"]
    guards = [requires_partner_key]
    security = [{"partnerApiKey": []}]
    response_headers = RATE_LIMIT_RESPONSE_HEADERS
    dependencies = {"partner": Provide(provide_partner), "idempotency": Provide(provide_idempotency)}
    parameters = {
        "x_api_key": HeaderParameter(
            name="X-API-KEY", annotation=str | None, required=False, description="The partner API key."
        )
    }

    @post(
        "/",
        operation_id="ingestExternalTicket",
        responses={
            200: ResponseSpec(
                data_container=ExternalTicketReceipt,
                description="This partner already sent this external_ref: the existing ticket",
                generate_examples=False,
            ),
            **error_responses(400, 403, 409, 413, 415, 422, 429),
        },
        summary="Ingest a partner ticket (JSON, or multipart with `attachments` files)",
        operation_class=body_operation(ExternalTicketCreate, with_files=True),
    )
    async def ingest_ticket(
        self,
        request: Request[Any, Any, Any],
        tickets: NamedDependency[TicketService],
        partner: NamedDependency[AuthenticatedPartner],
        idempotency: NamedDependency[Idempotency],
        idempotency_key: Annotated[str | None, IDEMPOTENCY_KEY_HEADER] = None,
    ) -> Response[ExternalTicketReceipt]:
        data, files = await read_body(request, ExternalTicketCreate)
        scope = f"partner:{partner.id}"
        return await idempotency.run(
            request, scope, idempotency_key, lambda: tickets.ingest_external(data, files, partner)
        )
