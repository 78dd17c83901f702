"""Rate limits per partner and per customer: headers on every response, 429 past the limit,
shared through Redis by several app instances; the staff UI is never limited."""

from __future__ import annotations

import os
import time
import uuid

import httpx
import pytest
import redis.asyncio as redis_asyncio

from main import create_app
from partners import ratelimit
from partners.ratelimit import MemoryRateLimiter, RedisRateLimiter
from tests.partners.helpers import client_for, partner_with_key, settings_with

# A Redis the tests may write to (keys under a random prefix, removed afterwards).
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
LIMIT_HEADERS = ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")


@pytest.fixture(autouse=True)
def still_clock(monkeypatch):
    """One second into a fresh window for the whole test: counts cannot reset mid-test."""
    frozen = (time.time() // 60 + 1) * 60 + 1
    monkeypatch.setattr(ratelimit, "clock", lambda: frozen)


def body(ref: str) -> dict:
    return {"external_ref": ref, "title": "Burst"}


def assert_limit_headers(response: httpx.Response, limit: int, remaining: int) -> None:
    assert response.headers["ratelimit-limit"] == str(limit)
    assert response.headers["ratelimit-remaining"] == str(remaining)
    assert response.headers["ratelimit-reset"] == "59"


async def test_partner_responses_carry_the_headers_and_count_down(app):
    _, key = await partner_with_key(rate_limit_per_minute=5)
    async with client_for(app, key) as client:
        first = await client.post("/external/tickets", json=body("A"))
        invalid = await client.post("/external/tickets", json={"title": ""})
    assert first.status_code == 201
    assert_limit_headers(first, 5, 4)
    assert invalid.status_code == 400
    assert_limit_headers(invalid, 5, 3)


async def test_partner_past_its_limit_gets_429_with_retry_after(app):
    _, key = await partner_with_key(rate_limit_per_minute=3)
    async with client_for(app, key) as client:
        responses = [await client.post("/external/tickets", json=body(f"R{i}")) for i in range(5)]
    assert [r.status_code for r in responses] == [201, 201, 201, 429, 429]
    limited = responses[3]
    assert limited.json()["status_code"] == 429
    assert "Rate limit" in limited.json()["detail"]
    assert limited.headers["retry-after"] == "59"
    assert_limit_headers(limited, 3, 0)


async def test_the_default_partner_limit_applies_without_a_partner_setting(app, partner):
    response = await partner.post("/external/tickets", json=body("D"))
    assert_limit_headers(response, 600, 599)


async def test_partners_have_separate_budgets(app):
    _, first = await partner_with_key(name="one", rate_limit_per_minute=1)
    _, second = await partner_with_key(name="two", rate_limit_per_minute=1)
    async with client_for(app, first) as a, client_for(app, second) as b:
        assert (await a.post("/external/tickets", json=body("X"))).status_code == 201
        assert (await b.post("/external/tickets", json=body("X"))).status_code == 201
        assert (await a.post("/external/tickets", json=body("Y"))).status_code == 429


async def test_a_refused_key_is_not_counted_and_gets_no_headers(anonymous):
    response = await anonymous.post("/external/tickets", json=body("Z"), headers={"X-API-KEY": "bad"})
    assert response.status_code == 403
    assert not any(h in response.headers for h in LIMIT_HEADERS)


async def test_customer_responses_carry_the_headers(customer):
    listed = await customer.get("/customer/tickets")
    missing = await customer.get("/customer/tickets/999")
    assert listed.status_code == 200
    assert_limit_headers(listed, 120, 119)
    assert missing.status_code == 404
    assert_limit_headers(missing, 120, 118)


async def test_customer_past_the_limit_gets_429_per_identity():
    app = create_app(settings_with(customer_rate_limit=2))
    alice = {"X-ROLE": "customer", "X-USER": "alice@example.com"}
    async with client_for(app, **alice) as client:
        statuses = [(await client.get("/customer/tickets")).status_code for _ in range(3)]
        shouted = await client.get("/customer/tickets", headers={"X-USER": "ALICE@example.com"})
    async with client_for(app, **{"X-ROLE": "customer", "X-USER": "bob@example.com"}) as bob:
        bobs = await bob.get("/customer/tickets")
    assert statuses == [200, 200, 429]
    assert shouted.status_code == 429
    assert bobs.status_code == 200


async def test_the_staff_ui_and_other_endpoints_are_not_limited():
    app = create_app(settings_with(customer_rate_limit=1, partner_rate_limit=1))
    async with client_for(app) as client:
        for _ in range(5):
            staff = await client.get("/staff/")
            assert staff.status_code == 200
            assert not any(h in staff.headers for h in LIMIT_HEADERS)
            categories = await client.get("/categories")
            assert categories.status_code == 200
            assert "ratelimit-limit" not in categories.headers


async def test_memory_limiter_windows_are_per_bucket():
    limiter = MemoryRateLimiter()
    results = [await limiter.hit("a", 2) for _ in range(3)]
    assert [r.allowed for r in results] == [True, True, False]
    assert (await limiter.hit("b", 2)).allowed


@pytest.fixture
async def redis_prefix():
    prefix = f"test-partners-{uuid.uuid4().hex}:"
    yield prefix
    client = redis_asyncio.Redis.from_url(REDIS_URL)
    keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_redis_limits_hold_across_two_app_instances(redis_prefix):
    settings = settings_with(redis_url=REDIS_URL, redis_key_prefix=redis_prefix, partner_rate_limit=4)
    first, second = create_app(settings), create_app(settings)
    assert isinstance(first.state.rate_limiter, RedisRateLimiter)
    _, key = await partner_with_key()
    try:
        async with client_for(first, key) as a, client_for(second, key) as b:
            statuses = []
            remaining = []
            for i in range(6):
                response = await (a if i % 2 == 0 else b).post("/external/tickets", json=body(f"N{i}"))
                statuses.append(response.status_code)
                remaining.append(response.headers["ratelimit-remaining"])
    finally:
        await first.state.rate_limiter.close()
        await second.state.rate_limiter.close()
    assert statuses == [201, 201, 201, 201, 429, 429]
    assert remaining == ["3", "2", "1", "0", "0", "0"]


async def test_redis_counter_keys_expire(redis_prefix):
    limiter = RedisRateLimiter(REDIS_URL, redis_prefix)
    try:
        await limiter.hit("bucket", 10)
    finally:
        await limiter.close()
    client = redis_asyncio.Redis.from_url(REDIS_URL)
    keys = [k async for k in client.scan_iter(match=f"{redis_prefix}*")]
    assert len(keys) == 1
    assert 0 < await client.ttl(keys[0]) <= 61
    await client.aclose()


async def test_an_unreachable_redis_lets_requests_through_uncounted(app):
    closed = create_app(settings_with(redis_url="redis://127.0.0.1:1/0"))
    _, key = await partner_with_key()
    try:
        async with client_for(closed, key) as client:
            response = await client.post("/external/tickets", json=body("R-1"))
    finally:
        await closed.state.rate_limiter.close()
    assert response.status_code == 201
    assert "ratelimit-limit" not in response.headers


async def test_the_front_end_may_read_the_limit_and_replay_headers(customer):
    response = await customer.get("/customer/tickets", headers={"Origin": "http://localhost:3000"})
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "retry-after"} <= exposed
    assert "idempotent-replayed" in exposed


async def test_a_new_minute_brings_a_new_budget(monkeypatch):
    limiter = MemoryRateLimiter()
    start = (time.time() // 60 + 2) * 60
    monkeypatch.setattr(ratelimit, "clock", lambda: start + 59.5)
    first = await limiter.hit("a", 1)
    blocked = await limiter.hit("a", 1)
    assert (first.allowed, blocked.allowed, blocked.reset) == (True, False, 1)
    monkeypatch.setattr(ratelimit, "clock", lambda: start + 60.2)
    again = await limiter.hit("a", 1)
    assert again.allowed
    assert again.reset == 60
