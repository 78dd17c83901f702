"""Bearer tokens: the service's own (HS256 with SECRET_KEY) and customer apps' (HS256 or RS256).

The issuer decides which key verifies a token, and each key is used with its one
algorithm only, so a token cannot choose a weaker check (`alg: none`, or an RSA
public key used as an HMAC secret).
"""

from __future__ import annotations

import secrets
import time
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from core.auth_settings import OWN_AUDIENCE, OWN_ISSUER
from core.errors import Unauthorized
from core.identity.caller import Caller, Role, is_email
from core.settings import Settings

OWN_ALGORITHM = "HS256"
# Clock skew allowed for tokens minted by a customer app on another machine.
CUSTOMER_LEEWAY_SECONDS = 30
_REQUIRED_CLAIMS = ["exp", "sub", "iss", "aud"]


def invalid_token() -> Unauthorized:
    return Unauthorized("Invalid or expired token", error="invalid_token")


def issue_access_token(settings: Settings, caller: Caller, ttl: int) -> str:
    now = int(time.time())
    claims = {
        "iss": OWN_ISSUER,
        "aud": OWN_AUDIENCE,
        "sub": caller.email,
        "role": caller.role.value,
        "iat": now,
        "exp": now + ttl,
        "jti": secrets.token_urlsafe(12),
    }
    return jwt.encode(claims, settings.secret_key, algorithm=OWN_ALGORITHM)


def _verify(token: str, key: Any, algorithm: str, audience: str, issuer: str, leeway: int) -> dict[str, Any]:
    return jwt.decode(
        token,
        key,
        algorithms=[algorithm],
        audience=audience,
        issuer=issuer,
        leeway=leeway,
        options={"require": _REQUIRED_CLAIMS},
    )


@lru_cache(maxsize=4)
def _public_key(pem: str) -> Any:
    """Parsed once: parsing the PEM on every request doubles the cost of an RS256 check."""
    return load_pem_public_key(pem.encode())


def _customer_key(settings: Settings, algorithm: object) -> Any:
    auth = settings.auth
    if algorithm == "HS256" and auth.customer_jwt_secret:
        return auth.customer_jwt_secret
    if algorithm == "RS256" and auth.customer_jwt_public_key:
        return _public_key(auth.customer_jwt_public_key)
    raise invalid_token()


def caller_from_token(settings: Settings, token: str) -> Caller:
    """The caller a token proves, or 401. Customer apps' tokens only ever make customers."""
    auth = settings.auth
    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
        # Read unverified only to pick the key; every claim is checked again below.
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        if issuer == OWN_ISSUER:
            claims = _verify(token, settings.secret_key, OWN_ALGORITHM, OWN_AUDIENCE, OWN_ISSUER, 0)
            role = Role(claims.get("role"))
        elif auth.accepts_customer_tokens and issuer == auth.customer_jwt_issuer:
            key = _customer_key(settings, algorithm)
            claims = _verify(
                token,
                key,
                str(algorithm),
                auth.customer_jwt_audience,
                issuer,
                CUSTOMER_LEEWAY_SECONDS,
            )
            role = Role.customer
        else:
            raise invalid_token()
    except (jwt.InvalidTokenError, ValueError, TypeError):
        raise invalid_token() from None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not is_email(subject.strip()):
        raise invalid_token()
    return Caller(role=role, email=subject.strip())


def bearer_token(authorization: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None for another scheme."""
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()
