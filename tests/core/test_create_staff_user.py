"""The management command that creates staff users without prompts."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from piccolo.apps.user.tables import BaseUser

from core.create_staff_user import NewStaffUser, StaffUserError, create_staff_user
from tests.conftest import PROJECT_DIR
from tests.test_staff_ui import login, staff_client


@pytest.fixture
async def username() -> AsyncIterator[str]:
    name = f"cmd-{uuid.uuid4().hex[:10]}"
    yield name
    await BaseUser.delete().where(BaseUser.username == name)


def run_command(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core.create_staff_user", *args],
        cwd=PROJECT_DIR,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_the_command_creates_a_staff_user_who_can_sign_in(app: Litestar, username: str) -> None:
    result = run_command(
        "--username",
        username,
        "--email",
        f"{username}@example.com",
        "--password-stdin",
        stdin="a-long-password\n",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Created staff user '{username}'.\n"
    assert "a-long-password" not in result.stdout + result.stderr
    row = (
        await BaseUser.select(BaseUser.active, BaseUser.admin, BaseUser.superuser)
        .where(BaseUser.username == username)
        .first()
    )
    assert row == {"active": True, "admin": True, "superuser": False}
    async with staff_client(app) as client:
        response = await login(client, username, "a-long-password")
        assert response.status_code in (200, 303), response.text


async def test_a_generated_password_is_shown_once_and_works(app: Litestar, username: str) -> None:
    result = run_command("--username", username, "--email", f"{username}@example.com", "--superuser")
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    assert first == f"Created superuser '{username}'."
    password = second.removeprefix("Password (shown once): ")
    assert len(password) >= 16
    assert (await BaseUser.select(BaseUser.superuser).where(BaseUser.username == username).first())[
        "superuser"
    ]
    async with staff_client(app) as client:
        assert (await login(client, username, password)).status_code in (200, 303)


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-email", "a-long-password", "--email must be an e-mail address"),
        ("ok@example.com", "short", "at least 8 characters"),
    ],
)
async def test_bad_values_are_refused(username: str, email: str, password: str, message: str) -> None:
    with pytest.raises(StaffUserError, match=message):
        await create_staff_user(NewStaffUser(username, email, password))
    assert not await BaseUser.exists().where(BaseUser.username == username)


async def test_an_existing_user_is_not_replaced(username: str) -> None:
    await create_staff_user(NewStaffUser(username, f"{username}@example.com", "a-long-password"))
    result = run_command(
        "--username", username, "--email", "other@example.com", "--password-stdin", stdin="another-password\n"
    )
    assert result.returncode == 1
    assert "already exists" in result.stderr
    assert await BaseUser.count().where(BaseUser.username == username) == 1
