"""AUTH_MODE=token: only a credential that proves who is calling opens a ticket endpoint."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from core.auth_settings import OWN_AUDIENCE, OWN_ISSUER
from core.identity import Caller, Role
from core.identity.tokens import issue_access_token
from tests.auth.conftest import CUSTOMER_SECRET, bearer, hs256_customer_token
from tests.conftest import AGENT, ALICE, BOB, make_client

AUTH_REQUIRED = {"status_code": 401, "detail": "Authentication required. Send Authorization: Bearer <token>"}
INVALID_TOKEN = {"status_code": 401, "detail": "Invalid or expired token"}

PROTECTED = [
    ("GET", "/customer/tickets"),
    ("POST", "/customer/tickets"),
    ("GET", "/customer/tickets/1"),
    ("POST", "/customer/tickets/1/comments"),
    ("POST", "/customer/tickets/1/close"),
    ("GET", "/admin/tickets"),
    ("GET", "/admin/tickets/stats"),
    ("GET", "/admin/tickets/1"),
    ("PUT", "/admin/tickets/1"),
    ("PATCH", "/admin/tickets/1"),
    ("POST", "/admin/tickets/1/comments"),
]
ADMIN_ONLY = [(method, path) for method, path in PROTECTED if path.startswith("/admin")]


def own_token(app, email: str, role: Role, ttl: int = 300) -> str:
    return issue_access_token(app.state.settings, Caller(role, email), ttl)


def own_claims(email: str, role: str = "admin", **overrides) -> dict:
    now = int(time.time())
    claims = {
        "iss": OWN_ISSUER,
        "aud": OWN_AUDIENCE,
        "sub": email,
        "role": role,
        "iat": now,
        "exp": now + 300,
    }
    claims.update(overrides)
    return claims


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture
async def alice_ticket(customer) -> dict:
    response = await customer.post("/customer/tickets", json={"title": "Printer on fire"})
    assert response.status_code == 201
    return response.json()


# No credential, or the simulation's: 401 with a Bearer challenge


@pytest.mark.parametrize(("method", "path"), PROTECTED)
async def test_no_credential_is_401_with_a_bearer_challenge(token_anonymous, method, path):
    response = await token_anonymous.request(method, path, json={"title": "x", "message": "x"})
    assert response.status_code == 401
    assert response.json() == AUTH_REQUIRED
    assert response.headers["www-authenticate"] == 'Bearer realm="helpdesk"'


@pytest.mark.parametrize(("method", "path"), PROTECTED)
async def test_simulation_headers_grant_nothing(token_app, method, path):
    async with make_client(token_app, {"X-ROLE": "admin", "X-USER": AGENT}) as client:
        response = await client.request(method, path, json={"title": "x", "message": "x"})
    assert response.status_code == 401
    assert response.json() == AUTH_REQUIRED


async def test_simulation_query_parameters_grant_nothing(token_anonymous, alice_ticket):
    for path in ("/admin/tickets", f"/customer/tickets/{alice_ticket['id']}"):
        for role, user in (("admin", AGENT), ("customer", ALICE)):
            response = await token_anonymous.get(path, params={"role": role, "user": user})
            assert response.status_code == 401, (path, role)


async def test_a_failed_request_changes_nothing(token_app, alice_ticket, admin):
    async with make_client(token_app, {"X-ROLE": "admin", "X-USER": AGENT}) as client:
        await client.put(f"/admin/tickets/{alice_ticket['id']}", json={"status": "closed"})
        await client.post("/customer/tickets", json={"title": "Sneaky"})
    listed = (await admin.get("/admin/tickets")).json()
    assert [(t["id"], t["status"]) for t in listed["results"]] == [(alice_ticket["id"], "open")]


@pytest.mark.parametrize(
    "authorization", ["Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer ", "Token abc", "bearer"]
)
async def test_other_schemes_and_empty_tokens_are_401(token_app, authorization):
    async with make_client(token_app, {"Authorization": authorization}) as client:
        response = await client.get("/admin/tickets")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_categories_and_partner_ingest_need_no_bearer(token_anonymous):
    assert (await token_anonymous.get("/categories")).status_code == 200
    response = await token_anonymous.post(
        "/external/tickets",
        json={"external_ref": "EXT-1", "title": "Alert"},
        headers={"X-API-KEY": "dev-external-api-key"},
    )
    assert response.status_code == 201, response.text


# Valid tokens: the role decides


@pytest.mark.parametrize(("method", "path"), ADMIN_ONLY)
async def test_a_customer_token_never_reaches_admin_endpoints(token_app, method, path):
    for token in (own_token(token_app, ALICE, Role.customer), hs256_customer_token(ALICE, role="admin")):
        async with make_client(token_app, bearer(token)) as client:
            response = await client.request(method, path, json={"message": "x"})
        assert response.status_code == 403
        assert response.json() == {"status_code": 403, "detail": "Requires role=admin"}


async def test_a_customer_token_never_reaches_another_customers_ticket(token_app, alice_ticket):
    async with make_client(token_app, bearer(own_token(token_app, BOB, Role.customer))) as bob:
        assert (await bob.get(f"/customer/tickets/{alice_ticket['id']}")).status_code == 404
        comment = await bob.post(f"/customer/tickets/{alice_ticket['id']}/comments", json={"message": "hi"})
        assert comment.status_code == 404
        assert (await bob.post(f"/customer/tickets/{alice_ticket['id']}/close")).status_code == 404
        assert (await bob.get("/customer/tickets")).json()["count"] == 0
    async with make_client(token_app, bearer(own_token(token_app, ALICE, Role.customer))) as alice:
        listed = (await alice.get("/customer/tickets")).json()
    assert [t["id"] for t in listed["results"]] == [alice_ticket["id"]]


async def test_a_customer_token_creates_tickets_for_its_subject(token_app):
    async with make_client(token_app, bearer(own_token(token_app, BOB, Role.customer))) as client:
        # The simulation headers cannot change whose ticket it becomes.
        response = await client.post(
            "/customer/tickets", json={"title": "Refund"}, headers={"X-ROLE": "customer", "X-USER": ALICE}
        )
    assert response.status_code == 201, response.text
    assert response.json()["customer_id"] == BOB


# Bad tokens: 401 invalid_token


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = AGENT
    return f"{header}.{_b64(claims)}.{signature}"


def bad_tokens(app) -> dict[str, str]:
    key = app.state.settings.secret_key
    valid = own_token(app, ALICE, Role.customer)
    return {
        "alg-none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(own_claims(AGENT))}.",
        "alg-none-signed": jwt.encode(own_claims(AGENT), None, algorithm="none"),
        "wrong-algorithm-hs512": jwt.encode(own_claims(AGENT), key, algorithm="HS512"),
        "wrong-key": jwt.encode(own_claims(AGENT), "another-secret-key-of-enough-length!", algorithm="HS256"),
        "customer-secret-with-own-issuer": jwt.encode(own_claims(AGENT), CUSTOMER_SECRET, algorithm="HS256"),
        "wrong-audience": jwt.encode(own_claims(AGENT, aud="someone-else"), key, algorithm="HS256"),
        "no-audience": jwt.encode({k: v for k, v in own_claims(AGENT).items() if k != "aud"}, key, "HS256"),
        "unknown-issuer": jwt.encode(own_claims(AGENT, iss="https://evil.example"), key, algorithm="HS256"),
        "expired": jwt.encode(own_claims(AGENT, exp=int(time.time()) - 1), key, algorithm="HS256"),
        "no-expiry": jwt.encode({k: v for k, v in own_claims(AGENT).items() if k != "exp"}, key, "HS256"),
        "tampered": _tampered(valid),
        "unknown-role": jwt.encode(own_claims(AGENT, role="root"), key, algorithm="HS256"),
        "subject-not-an-email": jwt.encode(own_claims("agent"), key, algorithm="HS256"),
        "subject-not-a-string": jwt.encode(own_claims(AGENT, sub=["x"]), key, algorithm="HS256"),
        "not-a-jwt": "not.a.jwt",
        "empty-json-parts": "e30.e30.e30",
        "garbage": "%%%",
    }


BAD_TOKEN_NAMES = [
    "alg-none",
    "alg-none-signed",
    "wrong-algorithm-hs512",
    "wrong-key",
    "customer-secret-with-own-issuer",
    "wrong-audience",
    "no-audience",
    "unknown-issuer",
    "expired",
    "no-expiry",
    "tampered",
    "unknown-role",
    "subject-not-an-email",
    "subject-not-a-string",
    "not-a-jwt",
    "empty-json-parts",
    "garbage",
]


@pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning")
@pytest.mark.parametrize("name", BAD_TOKEN_NAMES)
async def test_bad_tokens_are_401_invalid_token(token_app, app, name):
    token = bad_tokens(token_app)[name]
    for application in (token_app, app):  # a bearer token is checked in both modes
        async with make_client(application) as client:
            response = await client.get("/admin/tickets", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, (name, response.text)
        assert response.json() == INVALID_TOKEN
        assert response.headers["www-authenticate"] == 'Bearer realm="helpdesk", error="invalid_token"'


async def test_a_non_ascii_authorization_header_is_401(token_app):
    async with make_client(token_app) as client:
        response = await client.get(
            "/admin/tickets", headers={"Authorization": "Bearer \u00e9t\u00e9".encode("latin-1")}
        )
    assert response.status_code == 401


async def test_a_token_signed_with_another_apps_secret_key_is_refused(token_app):
    valid = own_token(token_app, AGENT, Role.admin)
    async with make_client(token_app, bearer(valid)) as client:
        assert (await client.get("/admin/tickets")).status_code == 200
    forged = jwt.encode(jwt.decode(valid, options={"verify_signature": False}), "x" * 40, algorithm="HS256")
    async with make_client(token_app, bearer(forged)) as client:
        assert (await client.get("/admin/tickets")).status_code == 401


# Simulate mode keeps the contract and also honours tokens


async def test_simulate_mode_prefers_a_bearer_token_to_the_headers(app):
    token = own_token(app, BOB, Role.customer)
    async with make_client(app, {**bearer(token), "X-ROLE": "admin", "X-USER": AGENT}) as client:
        assert (await client.get("/admin/tickets")).status_code == 403
        created = await client.post("/customer/tickets", json={"title": "Refund"})
    assert created.json()["customer_id"] == BOB


async def test_simulate_mode_ignores_other_authorization_schemes(app):
    headers = {"Authorization": "Basic YWRtaW46YWRtaW4=", "X-ROLE": "admin", "X-USER": AGENT}
    async with make_client(app, headers) as client:
        assert (await client.get("/admin/tickets")).status_code == 200
