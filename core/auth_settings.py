"""Sign-in settings: the identity mode, token lifetimes, customer token keys, mail, throttling.

Part of the settings read once in core/settings.py; kept apart so that module stays small.
core/settings.py imports this module, so its helpers are imported inside the functions here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.serialization import load_pem_public_key

if TYPE_CHECKING:
    from core.settings import Settings

SIMULATE = "simulate"
TOKEN = "token"  # noqa: S105 - a mode name, not a secret
# Our own tokens carry this issuer and audience; customer apps must use another issuer.
OWN_ISSUER = "helpdesk"
OWN_AUDIENCE = "helpdesk-api"
MIN_HMAC_SECRET_LENGTH = 32


@dataclass(frozen=True)
class AuthSettings:
    mode: str
    allow_role_simulation: bool
    access_token_ttl: int
    refresh_token_ttl: int
    customer_token_ttl: int
    magic_link_ttl: int
    magic_link_url: str | None
    customer_jwt_secret: str | None
    customer_jwt_public_key: str | None
    customer_jwt_audience: str
    customer_jwt_issuer: str | None
    smtp_url: str | None
    mail_from: str
    throttle_window: int
    throttle_per_ip: int
    throttle_per_account: int

    @property
    def simulates_roles(self) -> bool:
        return self.mode == SIMULATE

    @property
    def accepts_customer_tokens(self) -> bool:
        return bool(self.customer_jwt_secret or self.customer_jwt_public_key)


def _flag(raw: str | None, name: str) -> bool:
    value = (raw or "").strip().lower()
    if value in ("", "false", "0", "no"):
        return False
    if value in ("true", "1", "yes"):
        return True
    from core.settings import SettingsError

    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _public_key(env: dict[str, str]) -> str | None:
    """PEM from CUSTOMER_JWT_PUBLIC_KEY (`\\n` escapes allowed) or from CUSTOMER_JWT_PUBLIC_KEY_FILE."""
    from core.settings import SettingsError

    pem = env.get("CUSTOMER_JWT_PUBLIC_KEY", "").strip().replace("\\n", "\n")
    path = env.get("CUSTOMER_JWT_PUBLIC_KEY_FILE", "").strip()
    if path:
        try:
            pem = Path(path).read_text()
        except OSError as error:
            raise SettingsError(f"CUSTOMER_JWT_PUBLIC_KEY_FILE cannot be read: {error}") from None
    if not pem:
        return None
    try:
        load_pem_public_key(pem.encode())
    except ValueError:
        raise SettingsError("CUSTOMER_JWT_PUBLIC_KEY is not a PEM public key") from None
    return pem


def load_auth_settings(env: dict[str, str], app_env: str, secret_key: str) -> AuthSettings:
    from core.settings import SettingsError, _int

    default_mode = TOKEN if app_env == "production" else SIMULATE
    mode = env.get("AUTH_MODE", "").strip().lower() or default_mode
    if mode not in (SIMULATE, TOKEN):
        raise SettingsError("AUTH_MODE must be simulate or token")
    day = 24 * 3600
    auth = AuthSettings(
        mode=mode,
        allow_role_simulation=_flag(env.get("ALLOW_ROLE_SIMULATION"), "ALLOW_ROLE_SIMULATION"),
        access_token_ttl=_int(env, "ACCESS_TOKEN_TTL_SECONDS", 900, 30, day),
        refresh_token_ttl=_int(env, "REFRESH_TOKEN_TTL_SECONDS", 14 * day, 60, 365 * day),
        customer_token_ttl=_int(env, "CUSTOMER_TOKEN_TTL_SECONDS", 3600, 30, 7 * day),
        magic_link_ttl=_int(env, "MAGIC_LINK_TTL_SECONDS", 900, 60, day),
        magic_link_url=env.get("MAGIC_LINK_URL", "").strip() or None,
        customer_jwt_secret=env.get("CUSTOMER_JWT_SECRET", "").strip() or None,
        customer_jwt_public_key=_public_key(env),
        customer_jwt_audience=env.get("CUSTOMER_JWT_AUDIENCE", "").strip() or OWN_AUDIENCE,
        customer_jwt_issuer=env.get("CUSTOMER_JWT_ISSUER", "").strip() or None,
        smtp_url=env.get("SMTP_URL", "").strip() or None,
        mail_from=env.get("MAIL_FROM", "").strip() or "helpdesk@localhost",
        throttle_window=_int(env, "AUTH_THROTTLE_WINDOW_SECONDS", 300, 1, day),
        throttle_per_ip=_int(env, "AUTH_THROTTLE_PER_IP", 30, 1, 100_000),
        throttle_per_account=_int(env, "AUTH_THROTTLE_PER_ACCOUNT", 10, 1, 100_000),
    )
    problem = auth_problem(auth, app_env == "production", secret_key)
    if problem:
        raise SettingsError(problem)
    return auth


def auth_problem(auth: AuthSettings, production: bool, secret_key: str) -> str | None:
    """Why these settings must not run, or None. Also checked by create_app for hand-built settings."""
    if production and auth.simulates_roles and not auth.allow_role_simulation:
        return (
            "AUTH_MODE=simulate lets anyone claim any role; production refuses it "
            "unless ALLOW_ROLE_SIMULATION=true"
        )
    if auth.customer_jwt_secret is not None:
        if len(auth.customer_jwt_secret) < MIN_HMAC_SECRET_LENGTH:
            return f"CUSTOMER_JWT_SECRET must be at least {MIN_HMAC_SECRET_LENGTH} characters"
        if auth.customer_jwt_secret == secret_key:
            return "CUSTOMER_JWT_SECRET must differ from SECRET_KEY"
    if auth.accepts_customer_tokens and not auth.customer_jwt_issuer:
        return "Set CUSTOMER_JWT_ISSUER to the issuer (iss) of the customer app's tokens"
    if auth.customer_jwt_issuer == OWN_ISSUER:
        return f"CUSTOMER_JWT_ISSUER must not be {OWN_ISSUER!r}, the service's own issuer"
    return None


def check_auth(settings: Settings) -> None:
    from core.settings import SettingsError

    problem = auth_problem(settings.auth, settings.is_production, settings.secret_key)
    if problem:
        raise SettingsError(problem)
