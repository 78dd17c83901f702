"""Sign-in endpoints: staff tokens, refresh and logout; customer magic links."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, post
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from auth.mail import Mailer
from auth.schemas import (
    AccessToken,
    MagicLinkRequest,
    MagicLinkSent,
    MagicLinkVerify,
    RefreshRequest,
    StaffLogin,
    TokenPair,
)
from auth.services import AuthService
from core.bodies import read_body
from core.openapi import body_operation, error_responses

MAGIC_LINK_SENT = "If the address can receive mail, a sign-in code is on its way."


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]
    security = [{}]  # these endpoints are how a caller gets a credential

    @post(
        "/token",
        status_code=HTTP_200_OK,
        operation_id="issueStaffToken",
        responses=error_responses(400, 401, 413, 415, 429),
        summary="Staff sign-in: username and password for an access token and a refresh token",
        operation_class=body_operation(StaffLogin, with_files=False),
    )
    async def issue_token(
        self, request: Request[Any, Any, Any], auth: NamedDependency[AuthService]
    ) -> TokenPair:
        data, _ = await read_body(request, StaffLogin, files_allowed=False)
        return await auth.staff_login(data.username, data.password, client_ip(request))

    @post(
        "/refresh",
        status_code=HTTP_200_OK,
        operation_id="refreshStaffToken",
        responses=error_responses(400, 401, 413, 415),
        summary="Spend a refresh token for a new pair (reusing a spent one revokes the sign-in)",
        operation_class=body_operation(RefreshRequest, with_files=False),
    )
    async def refresh(self, request: Request[Any, Any, Any], auth: NamedDependency[AuthService]) -> TokenPair:
        data, _ = await read_body(request, RefreshRequest, files_allowed=False)
        return await auth.refresh(data.refresh_token)

    @post(
        "/logout",
        status_code=HTTP_204_NO_CONTENT,
        operation_id="logoutStaff",
        responses=error_responses(400, 413, 415),
        summary="Revoke a refresh token and every token rotated from the same sign-in",
        operation_class=body_operation(RefreshRequest, with_files=False),
    )
    async def logout(self, request: Request[Any, Any, Any], auth: NamedDependency[AuthService]) -> None:
        data, _ = await read_body(request, RefreshRequest, files_allowed=False)
        await auth.logout(data.refresh_token)

    @post(
        "/customer/magic-link",
        status_code=HTTP_202_ACCEPTED,
        operation_id="requestCustomerMagicLink",
        responses=error_responses(400, 413, 415, 429),
        summary="Mail a one-time sign-in code to a customer (always 202)",
        operation_class=body_operation(MagicLinkRequest, with_files=False),
    )
    async def request_magic_link(
        self, request: Request[Any, Any, Any], auth: NamedDependency[AuthService]
    ) -> Response[MagicLinkSent]:
        data, _ = await read_body(request, MagicLinkRequest, files_allowed=False)
        mail = await auth.request_magic_link(data.email, client_ip(request))
        # Sent after the response, so its timing says nothing about the mail system.
        mailer = Mailer(request.app.state.settings)
        return Response(
            MagicLinkSent(detail=MAGIC_LINK_SENT),
            status_code=HTTP_202_ACCEPTED,
            background=BackgroundTask(mailer.deliver, mail),
        )

    @post(
        "/customer/verify",
        status_code=HTTP_200_OK,
        operation_id="verifyCustomerMagicLink",
        responses=error_responses(400, 401, 413, 415, 429),
        summary="Exchange a sign-in code for a customer access token",
        operation_class=body_operation(MagicLinkVerify, with_files=False),
    )
    async def verify(
        self, request: Request[Any, Any, Any], auth: NamedDependency[AuthService]
    ) -> AccessToken:
        data, _ = await read_body(request, MagicLinkVerify, files_allowed=False)
        return await auth.verify_magic_link(data.code, client_ip(request))


async def provide_auth_service(request: Request[Any, Any, Any]) -> AuthService:
    state = request.app.state
    return AuthService(settings=state.settings, engine=state.engine, throttle=state.auth_throttle)
