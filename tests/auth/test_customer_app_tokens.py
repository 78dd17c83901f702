"""Bring your own identity: a customer app mints customer tokens (HS256 secret or RS256 key pair)."""

from __future__ import annotations

import time

import jwt
import pytest

from tests.auth.conftest import (
    OTHER_RSA_KEY,
    PUBLIC_PEM,
    RSA_KEY,
    bearer,
    customer_claims,
    hs256_customer_token,
    rs256_customer_token,
    token_settings,
)
from tests.conftest import ALICE, BOB, make_client

MINTERS = {"hs256": hs256_customer_token, "rs256": rs256_customer_token}


@pytest.mark.parametrize("alg", MINTERS)
async def test_a_customer_app_token_signs_the_customer_in(token_app, alg):
    async with make_client(token_app, bearer(MINTERS[alg](ALICE))) as client:
        created = await client.post("/customer/tickets", json={"title": "Refund"})
        assert created.status_code == 201, created.text
        assert created.json()["customer_id"] == ALICE
        listed = await client.get("/customer/tickets")
    assert [t["id"] for t in listed.json()["results"]] == [created.json()["id"]]


@pytest.mark.parametrize("alg", MINTERS)
async def test_a_customer_app_token_only_sees_its_subjects_tickets(token_app, customer, alg):
    ticket = (await customer.post("/customer/tickets", json={"title": "Alice's"})).json()
    async with make_client(token_app, bearer(MINTERS[alg](BOB))) as bob:
        assert (await bob.get(f"/customer/tickets/{ticket['id']}")).status_code == 404
        assert (await bob.get("/customer/tickets")).json()["count"] == 0


@pytest.mark.parametrize("alg", MINTERS)
async def test_an_admin_claim_makes_no_admin(token_app, alg):
    async with make_client(token_app, bearer(MINTERS[alg](ALICE, role="admin"))) as client:
        response = await client.get("/admin/tickets")
    assert response.status_code == 403


def _public_key_as_hmac_secret() -> str:
    """The classic confusion: an HS256 token whose secret is the RSA public key text."""
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps(customer_claims(ALICE)).encode())
    signature = hmac.new(PUBLIC_PEM.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


BAD = {
    "expired": lambda: hs256_customer_token(ALICE, exp=int(time.time()) - 120),
    "expired-rs256": lambda: rs256_customer_token(ALICE, exp=int(time.time()) - 120),
    "no-expiry": lambda: hs256_customer_token(ALICE, exp=None),
    "wrong-audience": lambda: hs256_customer_token(ALICE, aud="another-api"),
    "no-audience": lambda: rs256_customer_token(ALICE, aud=None),
    "wrong-issuer": lambda: hs256_customer_token(ALICE, iss="https://other-shop.example"),
    "no-subject": lambda: hs256_customer_token(ALICE, sub=None),
    "subject-not-an-email": lambda: hs256_customer_token("alice"),
    "wrong-secret": lambda: jwt.encode(customer_claims(ALICE), "x" * 40, algorithm="HS256"),
    "other-rsa-key": lambda: rs256_customer_token(ALICE, key=OTHER_RSA_KEY),
    "rs512": lambda: jwt.encode(customer_claims(ALICE), RSA_KEY, algorithm="RS512"),
    "public-key-as-hmac-secret": _public_key_as_hmac_secret,
    "alg-none": lambda: jwt.encode(customer_claims(ALICE), None, algorithm="none"),
    "tampered": lambda: hs256_customer_token(ALICE)[:-4] + "AAAA",
}


@pytest.mark.parametrize("name", BAD)
async def test_bad_customer_app_tokens_are_401(token_app, name):
    async with make_client(token_app, bearer(BAD[name]())) as client:
        response = await client.get("/customer/tickets")
    assert response.status_code == 401, (name, response.text)
    assert response.json()["detail"] == "Invalid or expired token"


async def test_small_clock_skew_is_tolerated(token_app):
    async with make_client(
        token_app, bearer(hs256_customer_token(ALICE, exp=int(time.time()) - 5))
    ) as client:
        assert (await client.get("/customer/tickets")).status_code == 200


async def test_without_configured_keys_customer_app_tokens_are_refused(app):
    from main import create_app

    plain = create_app(
        token_settings(app.state.settings, customer_jwt_secret=None, customer_jwt_public_key=None)
    )
    for token in (hs256_customer_token(ALICE), rs256_customer_token(ALICE)):
        async with make_client(plain, bearer(token)) as client:
            assert (await client.get("/customer/tickets")).status_code == 401


async def test_only_the_configured_algorithm_is_accepted(app):
    from main import create_app

    rs_only = create_app(token_settings(app.state.settings, customer_jwt_secret=None))
    async with make_client(rs_only, bearer(hs256_customer_token(ALICE))) as client:
        assert (await client.get("/customer/tickets")).status_code == 401
    async with make_client(rs_only, bearer(rs256_customer_token(ALICE))) as client:
        assert (await client.get("/customer/tickets")).status_code == 200
