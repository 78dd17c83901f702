"""AUTH_MODE: simulate by default in development, token in production; production refuses the simulation."""

from __future__ import annotations

import dataclasses
import logging

import pytest
from litestar import Litestar

from core.settings import SettingsError, load_settings
from tests.auth.conftest import with_auth

PRODUCTION = {"APP_ENV": "production", "SECRET_KEY": "s" * 40, "EXTERNAL_TICKET_API_KEY": "k" * 40}
LOUD_WARNING = "AUTH_MODE=simulate IN PRODUCTION"


def test_development_defaults_to_simulate():
    assert load_settings({}).auth.mode == "simulate"


def test_production_defaults_to_token():
    assert load_settings(PRODUCTION).auth.mode == "token"


def test_production_refuses_to_start_with_the_simulation():
    with pytest.raises(SettingsError, match="ALLOW_ROLE_SIMULATION=true"):
        load_settings({**PRODUCTION, "AUTH_MODE": "simulate"})


def test_production_simulation_needs_an_explicit_true():
    for value in ("false", "0", ""):
        with pytest.raises(SettingsError):
            load_settings({**PRODUCTION, "AUTH_MODE": "simulate", "ALLOW_ROLE_SIMULATION": value})
    settings = load_settings({**PRODUCTION, "AUTH_MODE": "simulate", "ALLOW_ROLE_SIMULATION": "true"})
    assert settings.auth.mode == "simulate"


def test_create_app_refuses_hand_built_production_simulation(app: Litestar):
    from main import create_app

    settings = dataclasses.replace(app.state.settings, app_env="production")
    with pytest.raises(SettingsError, match="ALLOW_ROLE_SIMULATION"):
        create_app(with_auth(settings, mode="simulate", allow_role_simulation=False))


async def _start(application: Litestar) -> None:
    for hook in application.on_startup:
        await hook(application)


@pytest.mark.filterwarnings("ignore:.*A pool already exists")
async def test_allowed_production_simulation_warns_loudly_at_every_start(app: Litestar, app_logs):
    from main import create_app

    settings = dataclasses.replace(app.state.settings, app_env="production")
    allowed = create_app(with_auth(settings, mode="simulate", allow_role_simulation=True))
    await _start(allowed)
    await _start(allowed)
    warnings = [
        r for r in app_logs.records if r.levelno == logging.WARNING and LOUD_WARNING in r.getMessage()
    ]
    assert len(warnings) == 2


@pytest.mark.filterwarnings("ignore:.*A pool already exists")
async def test_no_warning_in_token_mode_or_in_development(app: Litestar, token_app: Litestar, app_logs):
    await _start(app)
    await _start(token_app)
    assert [r for r in app_logs.records if r.levelno >= logging.WARNING] == []


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AUTH_MODE": "open"}, "AUTH_MODE must be simulate or token"),
        ({"ALLOW_ROLE_SIMULATION": "maybe"}, "ALLOW_ROLE_SIMULATION must be true or false"),
        ({"ACCESS_TOKEN_TTL_SECONDS": "5"}, "ACCESS_TOKEN_TTL_SECONDS must be between"),
        ({"CUSTOMER_JWT_SECRET": "short", "CUSTOMER_JWT_ISSUER": "x"}, "at least 32 characters"),
        ({"CUSTOMER_JWT_SECRET": "c" * 40}, "Set CUSTOMER_JWT_ISSUER"),
        ({"CUSTOMER_JWT_SECRET": "c" * 40, "CUSTOMER_JWT_ISSUER": "helpdesk"}, "must not be 'helpdesk'"),
        ({"CUSTOMER_JWT_SECRET": "s" * 40, "SECRET_KEY": "s" * 40, "CUSTOMER_JWT_ISSUER": "x"}, "differ"),
        ({"CUSTOMER_JWT_PUBLIC_KEY": "not a key", "CUSTOMER_JWT_ISSUER": "x"}, "not a PEM public key"),
    ],
)
def test_bad_auth_settings_are_refused(env, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(env)


def test_token_lifetimes_are_configurable():
    auth = load_settings(
        {
            "ACCESS_TOKEN_TTL_SECONDS": "60",
            "REFRESH_TOKEN_TTL_SECONDS": "3600",
            "CUSTOMER_TOKEN_TTL_SECONDS": "120",
            "MAGIC_LINK_TTL_SECONDS": "300",
        }
    ).auth
    assert (auth.access_token_ttl, auth.refresh_token_ttl) == (60, 3600)
    assert (auth.customer_token_ttl, auth.magic_link_ttl) == (120, 300)


def test_public_key_is_read_from_a_file(tmp_path):
    from tests.auth.conftest import PUBLIC_PEM

    path = tmp_path / "customer.pem"
    path.write_text(PUBLIC_PEM)
    env = {"CUSTOMER_JWT_PUBLIC_KEY_FILE": str(path), "CUSTOMER_JWT_ISSUER": "https://shop.example"}
    assert load_settings(env).auth.customer_jwt_public_key == PUBLIC_PEM
    escaped = {"CUSTOMER_JWT_PUBLIC_KEY": PUBLIC_PEM.replace("\n", "\\n"), "CUSTOMER_JWT_ISSUER": "x"}
    assert load_settings(escaped).auth.customer_jwt_public_key == PUBLIC_PEM
