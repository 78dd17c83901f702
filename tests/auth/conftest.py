"""Sign-in test setup: a second app in AUTH_MODE=token (same database), staff users, key material.

The user table is not reset between tests: each staff user is uniquely named and
deleted afterwards. Throttles are emptied before every test.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from litestar import Litestar
from piccolo.apps.user.tables import BaseUser

from core.settings import Settings
from tests.conftest import make_client

PASSWORD = "correct-horse-battery"
CUSTOMER_ISSUER = "https://shop.example"
CUSTOMER_AUDIENCE = "helpdesk-api"
CUSTOMER_SECRET = "customer-app-shared-secret-0123456789abcdef"


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


RSA_KEY = _rsa_key()
OTHER_RSA_KEY = _rsa_key()
PUBLIC_PEM = (
    RSA_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


def with_auth(settings: Settings, **changes: Any) -> Settings:
    return dataclasses.replace(settings, auth=dataclasses.replace(settings.auth, **changes))


def token_settings(settings: Settings, **changes: Any) -> Settings:
    defaults: dict[str, Any] = {
        "mode": "token",
        "customer_jwt_secret": CUSTOMER_SECRET,
        "customer_jwt_public_key": PUBLIC_PEM,
        "customer_jwt_issuer": CUSTOMER_ISSUER,
        "customer_jwt_audience": CUSTOMER_AUDIENCE,
    }
    return with_auth(settings, **{**defaults, **changes})


def customer_claims(email: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"sub": email, "iss": CUSTOMER_ISSUER, "aud": CUSTOMER_AUDIENCE, "iat": now, "exp": now + 300}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def hs256_customer_token(email: str, **overrides: Any) -> str:
    return jwt.encode(customer_claims(email, **overrides), CUSTOMER_SECRET, algorithm="HS256")


def rs256_customer_token(email: str, key: rsa.RSAPrivateKey = RSA_KEY, **overrides: Any) -> str:
    return jwt.encode(customer_claims(email, **overrides), key, algorithm="RS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def token_app(app: Litestar) -> Litestar:
    from main import create_app

    return create_app(token_settings(app.state.settings))


@pytest.fixture(autouse=True)
def empty_throttles(app: Litestar, token_app: Litestar) -> Iterator[None]:
    app.state.auth_throttle.clear()
    token_app.state.auth_throttle.clear()
    yield


@pytest.fixture
async def token_anonymous(token_app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(token_app) as client:
        yield client


@dataclasses.dataclass(frozen=True)
class StaffUser:
    id: int
    username: str
    email: str
    password: str = PASSWORD


async def create_staff_user(*, active: bool = True, admin: bool = True) -> StaffUser:
    username = f"agent-{uuid.uuid4().hex[:12]}"
    user = await BaseUser.create_user(
        username=username,
        password=PASSWORD,
        email=f"{username}@example.com",
        active=active,
        admin=admin,
        superuser=False,
    )
    return StaffUser(user.id, username, user.email)


@pytest.fixture
async def staff_user() -> AsyncIterator[StaffUser]:
    user = await create_staff_user()
    yield user
    await BaseUser.delete().where(BaseUser.id == user.id)


async def sign_in(client: httpx.AsyncClient, user: StaffUser) -> dict[str, Any]:
    response = await client.post("/auth/token", json={"username": user.username, "password": user.password})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def app_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Everything the service logs under "helpdesk", even after an app rebuilt the logging config."""
    logger = logging.getLogger("helpdesk")
    logger.addHandler(caplog.handler)
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    yield caplog
    logger.setLevel(previous)
    logger.removeHandler(caplog.handler)
