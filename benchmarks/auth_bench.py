"""What signing in costs per request and per login, measured in process.

    .venv/bin/python benchmarks/auth_bench.py

Prints microseconds per bearer-token verification (the service's own HS256
tokens, customer-app HS256 and RS256 tokens), per throttle check, and the time
of one staff password check (PBKDF2, run off the event loop).
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project's packages

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from piccolo.apps.user.tables import BaseUser

from core.identity import Caller, Role
from core.identity.tokens import caller_from_token, issue_access_token
from core.settings import load_settings
from core.throttle import Throttle

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5000"))
SECRET = "customer-app-shared-secret-0123456789abcdef"  # noqa: S105 - a benchmark key


def per_call_us(label: str, call, rounds: int = ROUNDS) -> None:
    call()
    started = time.perf_counter()
    for _ in range(rounds):
        call()
    elapsed = time.perf_counter() - started
    print(f"{label:<44} {elapsed / rounds * 1e6:9.1f} µs/call  ({rounds} calls)")


def main() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    base = load_settings({})
    settings = dataclasses.replace(
        base,
        auth=dataclasses.replace(
            base.auth,
            mode="token",
            customer_jwt_secret=SECRET,
            customer_jwt_public_key=pem,
            customer_jwt_issuer="https://shop.example",
        ),
    )
    now = int(time.time())
    claims = {
        "sub": "alice@example.com",
        "iss": "https://shop.example",
        "aud": "helpdesk-api",
        "exp": now + 600,
    }
    own = issue_access_token(settings, Caller(Role.admin, "agent@example.com"), 600)
    hs256 = jwt.encode(claims, SECRET, algorithm="HS256")
    rs256 = jwt.encode(claims, key, algorithm="RS256")

    per_call_us("verify own HS256 access token", lambda: caller_from_token(settings, own))
    per_call_us("verify customer-app HS256 token", lambda: caller_from_token(settings, hs256))
    per_call_us("verify customer-app RS256 token", lambda: caller_from_token(settings, rs256))
    per_call_us(
        "issue own access token", lambda: issue_access_token(settings, Caller(Role.admin, "a@b.co"), 600)
    )
    throttle = Throttle(300)
    per_call_us(
        "throttle check (new key each call)", lambda: throttle.hit("login", str(time.perf_counter()), 10)
    )
    per_call_us("staff password check (PBKDF2)", lambda: BaseUser.hash_password("a-long-password"), rounds=5)


if __name__ == "__main__":
    main()
