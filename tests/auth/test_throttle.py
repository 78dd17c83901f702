"""Sign-in throttling: per client address and per account, 429 with Retry-After."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from core.errors import TooManyRequests
from core.throttle import Throttle
from tests.auth.conftest import PASSWORD, StaffUser, with_auth


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_holds_for_a_window_then_resets():
    clock = FakeClock()
    throttle = Throttle(60, clock=clock)
    for _ in range(3):
        throttle.hit("login", "alice", 3)
    with pytest.raises(TooManyRequests) as refused:
        throttle.hit("login", "alice", 3)
    assert refused.value.headers == {"Retry-After": "60"}
    clock.now += 45
    with pytest.raises(TooManyRequests) as refused:
        throttle.hit("login", "alice", 3)
    assert refused.value.headers == {"Retry-After": "15"}
    throttle.hit("login", "bob", 3)  # other keys are counted apart
    throttle.hit("magic", "alice", 3)  # and other scopes
    clock.now += 15
    throttle.hit("login", "alice", 3)


def test_stale_keys_are_swept():
    clock = FakeClock()
    throttle = Throttle(10, clock=clock)
    for n in range(100):
        throttle.hit("login", f"user-{n}", 5)
    clock.now += 11
    throttle.hit("login", "fresh", 5)
    assert len(throttle._counts) == 1


def client_at(app: Litestar, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture(scope="module")
def strict_app(app: Litestar) -> Litestar:
    from main import create_app

    return create_app(with_auth(app.state.settings, throttle_per_ip=5, throttle_per_account=3))


@pytest.fixture(autouse=True)
def empty_strict_throttle(strict_app: Litestar) -> None:
    strict_app.state.auth_throttle.clear()


def assert_throttled(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["detail"].startswith("Too many attempts")


async def test_logins_are_throttled_per_account_even_with_the_right_password(
    strict_app, staff_user: StaffUser
):
    wrong = {"username": staff_user.username, "password": "wrong-password"}
    for n in range(3):
        async with client_at(strict_app, f"10.66.0.{n + 1}") as client:
            assert (await client.post("/auth/token", json=wrong)).status_code == 401
    async with client_at(strict_app, "10.66.0.9") as client:
        right = {"username": staff_user.username, "password": PASSWORD}
        assert_throttled(await client.post("/auth/token", json=right))
        # Usernames are counted case-insensitively.
        assert_throttled(
            await client.post("/auth/token", json={**right, "username": staff_user.username.upper()})
        )


async def test_logins_are_throttled_per_address(strict_app):
    async with client_at(strict_app, "10.66.1.1") as client:
        for n in range(5):
            response = await client.post("/auth/token", json={"username": f"user{n}", "password": "x"})
            assert response.status_code == 401
        assert_throttled(await client.post("/auth/token", json={"username": "user9", "password": "x"}))
    async with client_at(strict_app, "10.66.1.2") as other:
        assert (
            await other.post("/auth/token", json={"username": "user9", "password": "x"})
        ).status_code == 401


async def test_magic_links_are_throttled_per_account_and_per_address(strict_app):
    async with client_at(strict_app, "10.66.2.1") as client:
        for _ in range(3):
            assert (
                await client.post("/auth/customer/magic-link", json={"email": "a@example.com"})
            ).status_code == 202
        assert_throttled(await client.post("/auth/customer/magic-link", json={"email": "A@Example.com"}))
        # Four requests so far from this address (the refused one counts too): one more is allowed.
        assert (
            await client.post("/auth/customer/magic-link", json={"email": "b@example.com"})
        ).status_code == 202
        assert_throttled(await client.post("/auth/customer/magic-link", json={"email": "new@example.com"}))


async def test_code_guessing_is_throttled_per_address(strict_app):
    async with client_at(strict_app, "10.66.3.1") as client:
        for n in range(5):
            assert (
                await client.post("/auth/customer/verify", json={"code": f"guess-{n}"})
            ).status_code == 401
        assert_throttled(await client.post("/auth/customer/verify", json={"code": "guess-9"}))
