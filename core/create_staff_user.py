"""Create a staff user without prompts: `python -m core.create_staff_user --username ... --email ...`.

The password is read from standard input with `--password-stdin` (so it stays out of
the shell history and the process list), or generated and printed once.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from piccolo.apps.user.tables import BaseUser
from piccolo.engine import engine_finder

from core.db import start_database, stop_database
from core.identity import is_email

MIN_PASSWORD_LENGTH = 8


class StaffUserError(ValueError):
    """The staff user cannot be created as asked."""


@dataclass(frozen=True)
class NewStaffUser:
    username: str
    email: str
    password: str
    superuser: bool = False


async def create_staff_user(new: NewStaffUser) -> None:
    """An active staff user (admin, so the staff UI lets them in); a superuser if asked."""
    username, email = new.username.strip(), new.email.strip()
    if not username:
        raise StaffUserError("--username may not be blank")
    if not is_email(email):
        raise StaffUserError(f"--email must be an e-mail address, got {email!r}")
    if len(new.password) < MIN_PASSWORD_LENGTH:
        raise StaffUserError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    if await BaseUser.exists().where((BaseUser.username == username) | (BaseUser.email == email)):
        raise StaffUserError(f"a user named {username!r} or with e-mail {email!r} already exists")
    await BaseUser.create_user(
        username=username,
        email=email,
        password=new.password,
        active=True,
        admin=True,
        superuser=new.superuser,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core.create_staff_user", description=__doc__)
    parser.add_argument("--username", required=True)
    parser.add_argument("--email", required=True, help="used as the agent's name in ticket history")
    parser.add_argument(
        "--superuser", action="store_true", help="may manage staff users and delete categories"
    )
    parser.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    return parser


async def _run(new: NewStaffUser) -> None:
    engine = engine_finder()
    await start_database(engine)
    try:
        await create_staff_user(new)
    finally:
        await stop_database(engine)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    generated = not args.password_stdin
    password = secrets.token_urlsafe(16) if generated else sys.stdin.readline().rstrip("\r\n")
    new = NewStaffUser(args.username, args.email, password, args.superuser)
    try:
        asyncio.run(_run(new))
    except StaffUserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    kind = "superuser" if args.superuser else "staff user"
    print(f"Created {kind} {new.username.strip()!r}.")
    if generated:
        print(f"Password (shown once): {password}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
