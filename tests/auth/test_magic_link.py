"""Passwordless customers: POST /auth/customer/magic-link, then /auth/customer/verify."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from aiosmtpd.controller import Controller
from litestar import Litestar

from auth.tables import MagicLinkCode, OutboxMail
from tests.auth.conftest import bearer, token_settings, with_auth
from tests.conftest import ALICE, BOB, make_client

SENT = {"detail": "If the address can receive mail, a sign-in code is on its way."}
CODE = re.compile(r"sign-in code: (\S+)")


async def request_code(client, email: str = ALICE):
    return await client.post("/auth/customer/magic-link", json={"email": email})


async def outbox_code(email: str = ALICE) -> str:
    mail = (
        await OutboxMail.select()
        .where(OutboxMail.recipient == email)
        .order_by(OutboxMail.id, ascending=False)
        .first()
    )
    assert mail is not None
    match = CODE.search(mail["body"])
    assert match
    return match.group(1)


# Development without SMTP: the log and the outbox


async def test_a_code_request_is_202_and_lands_in_the_outbox_and_the_log(token_anonymous, app_logs):
    response = await request_code(token_anonymous)
    assert response.status_code == 202, response.text
    assert response.json() == SENT
    mails = await OutboxMail.select()
    assert [(m["recipient"], m["subject"]) for m in mails] == [(ALICE, "Your helpdesk sign-in code")]
    code = await outbox_code()
    assert code in app_logs.text
    rows = await MagicLinkCode.select()
    assert [r["email"] for r in rows] == [ALICE]
    assert code not in str(rows)  # only the digest is kept


async def test_any_address_gets_the_same_answer(token_anonymous):
    for email in (ALICE, "never-seen-before@example.org"):
        response = await request_code(token_anonymous, email)
        assert response.status_code == 202
        assert response.json() == SENT


@pytest.mark.parametrize("body", [{}, {"email": "not-an-email"}, {"email": 5}, {"email": "a@b.c" * 100}])
async def test_a_malformed_address_is_400(token_anonymous, body):
    response = await token_anonymous.post("/auth/customer/magic-link", json=body)
    assert response.status_code == 400
    assert await OutboxMail.count() == 0


async def test_the_code_signs_the_customer_in_once(token_app, token_anonymous):
    await request_code(token_anonymous)
    code = await outbox_code()
    response = await token_anonymous.post("/auth/customer/verify", json={"code": code})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == token_app.state.settings.auth.customer_token_ttl
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert (claims["sub"], claims["role"]) == (ALICE, "customer")

    async with make_client(token_app, bearer(body["access_token"])) as client:
        created = await client.post("/customer/tickets", json={"title": "Refund"})
        assert created.status_code == 201
        assert created.json()["customer_id"] == ALICE
        assert (await client.get("/admin/tickets")).status_code == 403

    again = await token_anonymous.post("/auth/customer/verify", json={"code": code})
    assert again.status_code == 401


async def test_concurrent_uses_of_one_code_sign_in_once(token_app):
    async with make_client(token_app) as client:
        await request_code(client)
        code = await outbox_code()
        responses = await asyncio.gather(
            *(client.post("/auth/customer/verify", json={"code": code}) for _ in range(5))
        )
    assert sorted(r.status_code for r in responses) == [200, 401, 401, 401, 401]


async def test_each_code_belongs_to_its_own_address(token_anonymous):
    await request_code(token_anonymous, ALICE)
    await request_code(token_anonymous, BOB)
    response = await token_anonymous.post("/auth/customer/verify", json={"code": await outbox_code(BOB)})
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["sub"] == BOB


async def test_an_expired_code_is_refused(token_anonymous):
    await request_code(token_anonymous)
    code = await outbox_code()
    await MagicLinkCode.update({MagicLinkCode.expires_at: datetime.now(UTC) - timedelta(seconds=1)}).where(
        MagicLinkCode.email == ALICE
    )
    response = await token_anonymous.post("/auth/customer/verify", json={"code": code})
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid, expired or already used sign-in code"


@pytest.mark.parametrize("body", [{"code": "made-up"}, {"code": ""}, {}, {"code": ["x"]}])
async def test_unknown_or_malformed_codes_are_refused(token_anonymous, body):
    response = await token_anonymous.post("/auth/customer/verify", json=body)
    assert response.status_code in (400, 401)


async def test_the_link_is_in_the_mail_when_configured(app):
    from main import create_app

    linked = create_app(with_auth(app.state.settings, magic_link_url="http://localhost:3000/sign-in"))
    async with make_client(linked) as client:
        await request_code(client)
    code = await outbox_code()
    body = (await OutboxMail.select(OutboxMail.body).first())["body"]
    assert f"http://localhost:3000/sign-in?code={code}" in body


async def test_production_without_smtp_sends_nothing_and_logs_no_code(app, app_logs):
    from main import create_app

    production = create_app(token_settings(dataclasses.replace(app.state.settings, app_env="production")))
    async with make_client(production) as client:
        response = await request_code(client)
    assert response.status_code == 202
    assert await OutboxMail.count() == 0
    assert "SMTP_URL is not set" in app_logs.text
    assert "sign-in code:" not in app_logs.text


# SMTP


@dataclasses.dataclass
class Inbox:
    messages: list = dataclasses.field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_inbox() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    yield inbox, port
    server.stop()


@pytest.fixture
async def smtp_app(app: Litestar, smtp_inbox) -> AsyncIterator[Litestar]:
    from main import create_app

    _, port = smtp_inbox
    settings = token_settings(
        app.state.settings, smtp_url=f"smtp://127.0.0.1:{port}", mail_from="desk@example.com"
    )
    yield create_app(settings)


async def test_with_smtp_the_code_is_mailed_not_logged(smtp_app, smtp_inbox, app_logs):
    inbox, _ = smtp_inbox
    async with make_client(smtp_app) as client:
        response = await request_code(client)
        assert response.status_code == 202
        assert len(inbox.messages) == 1
        envelope = inbox.messages[0]
        assert envelope.mail_from == "desk@example.com"
        assert envelope.rcpt_tos == [ALICE]
        code = CODE.search(envelope.content.decode()).group(1)
        assert code not in app_logs.text
        assert await OutboxMail.count() == 0
        verified = await client.post("/auth/customer/verify", json={"code": code})
    assert verified.status_code == 200, verified.text


async def test_an_unreachable_smtp_server_still_answers_202_and_logs_no_code(app, app_logs):
    from main import create_app

    broken = create_app(token_settings(app.state.settings, smtp_url=f"smtp://127.0.0.1:{free_port()}"))
    async with make_client(broken) as client:
        response = await request_code(client)
    assert response.status_code == 202
    assert "Sign-in mail could not be sent" in app_logs.text
    assert "sign-in code:" not in app_logs.text
