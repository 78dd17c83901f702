"""Staff sign-in: POST /auth/token, /auth/refresh, /auth/logout."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from piccolo.apps.user.tables import BaseUser

from auth.tables import RefreshToken
from tests.auth.conftest import PASSWORD, bearer, create_staff_user, sign_in
from tests.conftest import make_client

BAD_LOGIN = "Invalid username or password, or not an active staff user"
BAD_REFRESH = "Invalid, expired or revoked refresh token"


async def test_a_staff_user_gets_tokens_that_open_the_admin_api(token_app, token_anonymous, staff_user):
    tokens = await sign_in(token_anonymous, staff_user)
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == token_app.state.settings.auth.access_token_ttl
    assert tokens["refresh_expires_in"] == token_app.state.settings.auth.refresh_token_ttl

    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["sub"] == staff_user.email
    assert claims["role"] == "admin"
    assert claims["exp"] - claims["iat"] == token_app.state.settings.auth.access_token_ttl

    async with make_client(token_app, bearer(tokens["access_token"])) as client:
        listed = await client.get("/admin/tickets")
        assert listed.status_code == 200, listed.text
        created = await client.post("/customer/tickets", json={"title": "Printer on fire"})
        assert created.status_code == 403
        assert created.json()["detail"] == "Requires role=customer"


async def test_admin_comments_are_signed_with_the_token_subject(
    token_app, token_anonymous, staff_user, customer
):
    ticket = (await customer.post("/customer/tickets", json={"title": "Printer on fire"})).json()
    tokens = await sign_in(token_anonymous, staff_user)
    async with make_client(token_app, bearer(tokens["access_token"])) as client:
        comment = await client.post(f"/admin/tickets/{ticket['id']}/comments", json={"message": "On it"})
    assert comment.status_code == 201, comment.text
    assert comment.json()["author"] == staff_user.email


async def test_the_refresh_token_is_stored_only_as_a_digest(token_anonymous, staff_user):
    tokens = await sign_in(token_anonymous, staff_user)
    rows = await RefreshToken.select().where(RefreshToken.user == staff_user.id)
    assert len(rows) == 1
    assert tokens["refresh_token"] not in str(rows)
    assert len(rows[0]["token_hash"]) == 64


@pytest.mark.parametrize("password", ["wrong-password", "", PASSWORD + " ", PASSWORD.upper()])
async def test_a_wrong_password_gets_nothing(token_anonymous, staff_user, password):
    response = await token_anonymous.post(
        "/auth/token", json={"username": staff_user.username, "password": password}
    )
    assert response.status_code in (400, 401), response.text
    assert "access_token" not in response.text
    assert await RefreshToken.count() == 0


async def test_an_unknown_user_gets_the_same_answer(token_anonymous):
    response = await token_anonymous.post("/auth/token", json={"username": "nobody", "password": PASSWORD})
    assert response.status_code == 401
    assert response.json()["detail"] == BAD_LOGIN
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("active", "admin"), [(False, True), (True, False), (False, False)])
async def test_inactive_and_non_staff_users_get_nothing(token_anonymous, active, admin):
    user = await create_staff_user(active=active, admin=admin)
    try:
        response = await token_anonymous.post(
            "/auth/token", json={"username": user.username, "password": PASSWORD}
        )
        assert response.status_code == 401
        assert response.json()["detail"] == BAD_LOGIN
        assert await RefreshToken.count() == 0
    finally:
        await BaseUser.delete().where(BaseUser.id == user.id)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b"{",
        b'{"username": "a"}',
        b'{"username": 1, "password": "x"}',
        b'{"username": "", "password": "x"}',
    ],
)
async def test_malformed_login_bodies_are_400(token_anonymous, body):
    response = await token_anonymous.post(
        "/auth/token", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["status_code"] == 400


async def test_refresh_rotates_the_token(token_app, token_anonymous, staff_user):
    first = await sign_in(token_anonymous, staff_user)
    response = await token_anonymous.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    async with make_client(token_app, bearer(second["access_token"])) as client:
        assert (await client.get("/admin/tickets")).status_code == 200
    third = await token_anonymous.post("/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert third.status_code == 200, third.text
    families = await RefreshToken.select(RefreshToken.family).where(RefreshToken.user == staff_user.id)
    assert len({row["family"] for row in families}) == 1 and len(families) == 3


async def test_reusing_a_spent_refresh_token_revokes_the_whole_family(token_anonymous, staff_user):
    first = await sign_in(token_anonymous, staff_user)
    second = (
        await token_anonymous.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()

    replay = await token_anonymous.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    assert replay.json()["detail"] == BAD_REFRESH

    # The thief's replay also locks out the token rotated from it.
    after = await token_anonymous.post("/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert after.status_code == 401
    assert await RefreshToken.count().where(RefreshToken.revoked_at.is_null()) == 0


async def test_another_sign_in_is_not_revoked_by_a_replay(token_anonymous, staff_user):
    laptop = await sign_in(token_anonymous, staff_user)
    phone = await sign_in(token_anonymous, staff_user)
    await token_anonymous.post("/auth/refresh", json={"refresh_token": laptop["refresh_token"]})
    await token_anonymous.post("/auth/refresh", json={"refresh_token": laptop["refresh_token"]})
    response = await token_anonymous.post("/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    assert response.status_code == 200, response.text


async def test_concurrent_refreshes_of_one_token_issue_at_most_one_pair(token_app, staff_user):
    async with make_client(token_app) as client:
        tokens = await sign_in(client, staff_user)
        responses = await asyncio.gather(
            *(client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]}) for _ in range(5))
        )
    assert sorted(r.status_code for r in responses) == [200, 401, 401, 401, 401]
    # The replays revoked the family, the pair the winner got included.
    assert await RefreshToken.count().where(RefreshToken.revoked_at.is_null()) == 0


async def test_an_expired_refresh_token_is_refused(token_anonymous, staff_user):
    tokens = await sign_in(token_anonymous, staff_user)
    await RefreshToken.update({RefreshToken.expires_at: datetime.now(UTC) - timedelta(seconds=1)}).where(
        RefreshToken.user == staff_user.id
    )
    response = await token_anonymous.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 401


async def test_a_deactivated_user_cannot_refresh(token_anonymous, staff_user):
    tokens = await sign_in(token_anonymous, staff_user)
    await BaseUser.update({BaseUser.active: False}).where(BaseUser.id == staff_user.id)
    response = await token_anonymous.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 401
    assert await RefreshToken.count().where(RefreshToken.revoked_at.is_null()) == 0


@pytest.mark.parametrize("token", ["garbage", "x" * 4096])
async def test_an_unknown_refresh_token_is_refused(token_anonymous, token):
    response = await token_anonymous.post("/auth/refresh", json={"refresh_token": token})
    assert response.status_code == 401


async def test_logout_revokes_the_family(token_anonymous, staff_user):
    first = await sign_in(token_anonymous, staff_user)
    second = (
        await token_anonymous.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()
    response = await token_anonymous.post("/auth/logout", json={"refresh_token": second["refresh_token"]})
    assert response.status_code == 204
    refused = await token_anonymous.post("/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert refused.status_code == 401


async def test_logout_with_an_unknown_token_is_204(token_anonymous):
    response = await token_anonymous.post("/auth/logout", json={"refresh_token": "never-issued"})
    assert response.status_code == 204


async def test_passwords_and_tokens_are_not_logged(token_anonymous, staff_user, caplog):
    caplog.set_level("DEBUG")
    tokens = await sign_in(token_anonymous, staff_user)
    await token_anonymous.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    await token_anonymous.post(
        "/auth/token", json={"username": staff_user.username, "password": "wrong-secret-x"}
    )
    assert PASSWORD not in caplog.text
    assert "wrong-secret-x" not in caplog.text
    assert tokens["refresh_token"] not in caplog.text
    assert tokens["access_token"] not in caplog.text


async def test_sign_in_works_in_simulate_mode_too(app, staff_user):
    async with make_client(app) as client:
        tokens = await sign_in(client, staff_user)
    async with make_client(app, bearer(tokens["access_token"])) as client:
        response = await client.get("/admin/tickets")
    assert response.status_code == 200
