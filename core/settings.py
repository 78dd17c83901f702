"""Settings read from the environment (and `.env`) once, into a frozen dataclass."""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from dotenv import load_dotenv

from core.auth_settings import AuthSettings, load_auth_settings

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_EXTERNAL_API_KEY = "dev-external-api-key"
DEFAULT_SECRET_KEY = "dev-insecure-secret-key-change-me"  # noqa: S105 - refused in production
DEFAULT_CORS_ORIGINS = ("http://localhost:3000", "http://127.0.0.1:3000")
MEGABYTE = 1024 * 1024
FORM_TEXT_PARTS = 20


class SettingsError(RuntimeError):
    """A setting has a value the service cannot run with."""


@dataclass(frozen=True)
class Settings:
    app_env: str
    host: str
    port: int
    database_url: str | None
    sqlite_path: Path
    media_root: Path
    page_size: int
    max_page_size: int
    max_upload_bytes: int
    max_request_bytes: int
    max_upload_files: int
    secret_key: str
    external_api_key_digest: bytes
    cors_origins: tuple[str, ...]
    auth: AuthSettings
    # Host names the staff UI is served under over HTTPS (its CSRF check compares the Referer).
    staff_allowed_hosts: tuple[str, ...] = ()
    partner_rate_limit: int = 600
    customer_rate_limit: int = 120
    redis_url: str | None = None
    redis_key_prefix: str = "helpdesk:"
    idempotency_ttl_seconds: int = 86400
    webhook_worker_enabled: bool = True
    webhook_timeout_seconds: float = 10.0
    webhook_poll_seconds: float = 2.0
    webhook_retry_base_seconds: float = 30.0
    webhook_retry_max_seconds: float = 3600.0
    webhook_give_up_seconds: int = 86400
    metrics_enabled: bool = True
    metrics_token_digest: bytes | None = None

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def uses_postgres(self) -> bool:
        return self.database_url is not None

    @property
    def max_form_parts(self) -> int:
        """Parts in one multipart body: the files allowed plus room for every text field."""
        return self.max_upload_files + FORM_TEXT_PARTS

    def digest_secret(self, secret: str) -> bytes:
        return keyed_digest(self.secret_key, secret)


def human_size(size: int) -> str:
    """A byte count as people read limits: "10 MB", "512 KB", "100 bytes"."""
    for unit, factor in (("MB", MEGABYTE), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} bytes"


def keyed_digest(key: str, secret: str) -> bytes:
    """HMAC-SHA256 of a secret, so only digests are kept in memory and compared."""
    return hmac.new(key.encode(), secret.encode("utf-8", "surrogateescape"), hashlib.sha256).digest()


def _number(
    env: dict[str, str], name: str, default: float, minimum: float, maximum: float, kind: type
) -> Any:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        noun = "a whole number" if kind is int else "a number"
        raise SettingsError(f"{name} must be {noun}, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise SettingsError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def _int(env: dict[str, str], name: str, default: int, minimum: int, maximum: int) -> int:
    return _number(env, name, default, minimum, maximum, int)


def _float(env: dict[str, str], name: str, default: float, minimum: float, maximum: float) -> float:
    return _number(env, name, default, minimum, maximum, float)


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in ("true", "false", "1", "0", "yes", "no"):
        raise SettingsError(f"{name} must be true or false, got {raw!r}")
    return raw in ("true", "1", "yes")


def _path(env: dict[str, str], name: str, default: str) -> Path:
    path = Path(env.get(name, "").strip() or default)
    return path if path.is_absolute() else PROJECT_DIR / path


def _database_url(env: dict[str, str]) -> str | None:
    url = env.get("DATABASE_URL", "").strip()
    if not url or url.startswith("sqlite"):
        return None
    if not url.startswith(("postgres://", "postgresql://")):
        raise SettingsError("DATABASE_URL must be unset (SQLite) or a postgres:// URL")
    return url


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build settings from a mapping (the process environment plus `.env` by default)."""
    if env is None:
        load_dotenv(PROJECT_DIR / ".env", override=False)
        env = dict(os.environ)
    app_env = env.get("APP_ENV", "development").strip().lower() or "development"
    if app_env not in ("development", "production"):
        raise SettingsError("APP_ENV must be development or production")
    secret_key = env.get("SECRET_KEY", "").strip() or DEFAULT_SECRET_KEY
    api_key = env.get("EXTERNAL_TICKET_API_KEY", "") or DEFAULT_EXTERNAL_API_KEY
    if app_env == "production":
        if secret_key == DEFAULT_SECRET_KEY:
            raise SettingsError("Set SECRET_KEY to a long random value in production")
        if api_key == DEFAULT_EXTERNAL_API_KEY:
            raise SettingsError("Set EXTERNAL_TICKET_API_KEY to a long random value in production")
    origins = env.get("CORS_ALLOWED_ORIGINS")
    cors_origins = (
        tuple(o.strip() for o in origins.split(",") if o.strip())
        if origins is not None
        else DEFAULT_CORS_ORIGINS
    )
    max_upload_mb = _int(env, "MAX_UPLOAD_SIZE_MB", 10, 1, 1024)
    max_request_mb = _int(env, "MAX_REQUEST_SIZE_MB", 25, 1, 4096)
    # /metrics: on by default in development; in production only when asked for.
    metrics_token = env.get("METRICS_TOKEN", "").strip()
    return Settings(
        app_env=app_env,
        host=env.get("HOST", "").strip() or "127.0.0.1",
        port=_int(env, "PORT", 8000, 1, 65535),
        database_url=_database_url(env),
        sqlite_path=_path(env, "SQLITE_PATH", "tickets.sqlite"),
        media_root=_path(env, "MEDIA_ROOT", "media"),
        page_size=_int(env, "API_PAGE_SIZE", 20, 1, 100),
        max_page_size=100,
        max_upload_bytes=max_upload_mb * MEGABYTE,
        max_request_bytes=max_request_mb * MEGABYTE,
        max_upload_files=_int(env, "MAX_UPLOAD_FILES", 20, 1, 1000),
        secret_key=secret_key,
        external_api_key_digest=keyed_digest(secret_key, api_key),
        cors_origins=cors_origins,
        auth=load_auth_settings(env, app_env, secret_key),
        staff_allowed_hosts=tuple(
            h.strip() for h in env.get("STAFF_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",") if h.strip()
        ),
        partner_rate_limit=_int(env, "PARTNER_RATE_LIMIT_PER_MINUTE", 600, 1, 1_000_000),
        customer_rate_limit=_int(env, "CUSTOMER_RATE_LIMIT_PER_MINUTE", 120, 1, 1_000_000),
        redis_url=env.get("REDIS_URL", "").strip() or None,
        redis_key_prefix=env.get("REDIS_KEY_PREFIX", "").strip() or "helpdesk:",
        idempotency_ttl_seconds=_int(env, "IDEMPOTENCY_TTL_SECONDS", 86400, 60, 30 * 86400),
        webhook_worker_enabled=_bool(env, "WEBHOOK_WORKER_ENABLED", True),
        webhook_timeout_seconds=_float(env, "WEBHOOK_TIMEOUT_SECONDS", 10.0, 0.01, 300.0),
        webhook_poll_seconds=_float(env, "WEBHOOK_POLL_SECONDS", 2.0, 0.01, 3600.0),
        webhook_retry_base_seconds=_float(env, "WEBHOOK_RETRY_BASE_SECONDS", 30.0, 0.001, 86400.0),
        webhook_retry_max_seconds=_float(env, "WEBHOOK_RETRY_MAX_SECONDS", 3600.0, 0.001, 86400.0),
        webhook_give_up_seconds=_int(env, "WEBHOOK_GIVE_UP_SECONDS", 86400, 1, 30 * 86400),
        metrics_enabled=_bool(env, "METRICS_ENABLED", app_env != "production"),
        metrics_token_digest=keyed_digest(secret_key, metrics_token) if metrics_token else None,
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
