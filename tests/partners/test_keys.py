"""Partner API keys: issued at random and shown once, stored as hashes, rotated, revoked,
expired, bound to source addresses; the EXTERNAL_TICKET_API_KEY setting stays a key."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.settings import get_settings
from partners.admin import IssueKeyForm, RevokeKeyForm, issue_key_action, revoke_key_action
from partners.commands import issue_key as issue_key_command
from partners.keys import DEFAULT_PARTNER_NAME, ensure_default_partner, issue_key, revoke_key
from partners.tables import Partner, PartnerKey
from tests.partners.helpers import client_for, make_partner, partner_with_key, settings_with
from tickets.tables import Ticket, utc_now

FORBIDDEN = {"status_code": 403, "detail": "Invalid or missing X-API-KEY"}


def body(ref: str = "EXT-1") -> dict:
    return {"external_ref": ref, "title": "Partner alert"}


async def post(app, key, ref="EXT-1", ip="127.0.0.1"):
    async with client_for(app, key, ip=ip) as client:
        return await client.post("/external/tickets", json=body(ref))


async def test_an_issued_key_creates_tickets_recorded_as_that_partner(app):
    partner_id, key = await partner_with_key(name="acme")
    response = await post(app, key)
    assert response.status_code == 201, response.text
    ticket = await Ticket.select(Ticket.partner).where(Ticket.id == response.json()["ticket_id"]).first()
    assert ticket["partner"] == partner_id


async def test_the_setting_key_belongs_to_the_default_partner(app, partner):
    response = await partner.post("/external/tickets", json=body())
    assert response.status_code == 201, response.text
    ticket = await Ticket.select(Ticket.partner.name).where(Ticket.id == response.json()["ticket_id"]).first()
    assert ticket["partner.name"] == DEFAULT_PARTNER_NAME


async def test_keys_are_stored_only_as_hashes_with_a_short_prefix(app):
    _, key = await partner_with_key()
    rows = await PartnerKey.select().where(PartnerKey.prefix == key[:12])
    assert len(rows) == 1
    row = rows[0]
    assert key not in str(list(row.values()))
    assert row["digest"] == get_settings().digest_secret(key).hex()
    assert len(key) > 40 and key.startswith("hdk_")


async def test_issued_keys_are_random(app):
    partner_id = await make_partner()
    keys = {(await issue_key(get_settings(), partner_id)).key for _ in range(5)}
    assert len(keys) == 5


async def test_last_used_is_recorded(app):
    _, key = await partner_with_key()
    assert (await PartnerKey.select(PartnerKey.last_used_at).where(PartnerKey.prefix == key[:12]).first())[
        "last_used_at"
    ] is None
    assert (await post(app, key)).status_code == 201
    row = await PartnerKey.select(PartnerKey.last_used_at).where(PartnerKey.prefix == key[:12]).first()
    assert row["last_used_at"] is not None


async def test_rotation_two_keys_work_until_the_old_one_is_revoked(app):
    partner_id, old = await partner_with_key()
    new = (await issue_key(get_settings(), partner_id, "rotated")).key
    assert (await post(app, old, "A")).status_code == 201
    assert (await post(app, new, "B")).status_code == 201

    old_id = (await PartnerKey.select(PartnerKey.id).where(PartnerKey.prefix == old[:12]).first())["id"]
    assert await revoke_key(old_id)
    refused = await post(app, old, "C")
    assert refused.status_code == 403
    assert refused.json() == FORBIDDEN
    assert (await post(app, new, "D")).status_code == 201
    assert await Ticket.count().where(Ticket.partner == partner_id) == 3


async def test_expired_key_is_refused(app):
    partner_id = await make_partner()
    expired = await issue_key(get_settings(), partner_id, expires_at=utc_now() - timedelta(seconds=1))
    live = await issue_key(get_settings(), partner_id, expires_at=utc_now() + timedelta(days=1))
    response = await post(app, expired.key)
    assert response.status_code == 403
    assert response.json() == FORBIDDEN
    assert (await post(app, live.key)).status_code == 201


async def test_inactive_partner_keys_are_refused(app):
    partner_id, key = await partner_with_key()
    await Partner.update({Partner.active: False}).where(Partner.id == partner_id)
    response = await post(app, key)
    assert response.status_code == 403
    assert response.json() == FORBIDDEN


@pytest.mark.parametrize(
    ("allowed", "ip", "status"),
    [
        ("1.2.3.4", "1.2.3.4", 201),
        ("1.2.3.4", "1.2.3.5", 403),
        ("10.0.0.0/8, 1.2.3.4", "10.9.8.7", 201),
        ("10.0.0.0/8", "11.0.0.1", 403),
        ("", "203.0.113.9", 201),
        ("not-an-address, 1.2.3.4", "1.2.3.4", 201),
        ("not-an-address", "1.2.3.4", 403),
    ],
)
async def test_keys_of_ip_bound_partners_work_only_from_allowed_addresses(app, allowed, ip, status):
    _, key = await partner_with_key(allowed_ips=allowed)
    response = await post(app, key, ip=ip)
    assert response.status_code == status, response.text
    if status == 403:
        assert response.json() == FORBIDDEN


@pytest.mark.parametrize(
    "mangle", [lambda k: k[:-1], lambda k: k + "x", lambda k: k[:12], lambda k: k.upper()]
)
async def test_near_misses_of_an_issued_key_are_refused(app, mangle):
    _, key = await partner_with_key()
    response = await post(app, mangle(key))
    assert response.status_code == 403
    assert response.json() == FORBIDDEN
    assert await Ticket.count() == 0


async def test_default_partner_seeding_is_idempotent_and_follows_the_setting(app, partner):
    await ensure_default_partner(get_settings())
    await ensure_default_partner(get_settings())
    assert await Partner.count().where(Partner.name == DEFAULT_PARTNER_NAME) == 1
    assert await PartnerKey.count().where(PartnerKey.prefix == "(setting)") == 1

    changed = settings_with(external_api_key_digest=get_settings().digest_secret("a-new-setting-key"))
    await ensure_default_partner(changed)
    assert (await partner.post("/external/tickets", json=body())).status_code == 403
    async with client_for(app, "a-new-setting-key") as renewed:
        # the app's own settings still hold the old digest, but keys are looked up in the database
        assert (await renewed.post("/external/tickets", json=body())).status_code == 201


async def test_default_partner_seeding_from_concurrent_starts(app):
    import asyncio

    await asyncio.gather(*(ensure_default_partner(get_settings()) for _ in range(10)))
    assert await Partner.count().where(Partner.name == DEFAULT_PARTNER_NAME) == 1
    assert await PartnerKey.count().where(PartnerKey.prefix == "(setting)") == 1


async def test_staff_form_issues_a_key_shown_once_and_revokes_it(app):
    await make_partner(name="globex")
    message = await issue_key_action(
        None, IssueKeyForm(partner_name="globex", label="prod", expires_in_days=30)
    )
    key = message.rsplit(" ", 1)[-1]
    assert key.startswith("hdk_")
    assert (await post(app, key)).status_code == 201
    row = await PartnerKey.select().where(PartnerKey.prefix == key[:12]).first()
    assert row["label"] == "prod"
    assert row["expires_at"] > utc_now() + timedelta(days=29)

    await revoke_key_action(None, RevokeKeyForm(key_id=row["id"]))
    assert (await post(app, key, "EXT-2")).status_code == 403
    with pytest.raises(ValueError):
        await revoke_key_action(None, RevokeKeyForm(key_id=row["id"]))
    with pytest.raises(ValueError):
        await issue_key_action(None, IssueKeyForm(partner_name="nobody"))


async def test_management_command_prints_a_working_key(app, capsys):
    await issue_key_command(partner="initech", create=True, label="cli")
    key = capsys.readouterr().out.strip().rsplit(" ", 1)[-1]
    assert (await post(app, key)).status_code == 201
    with pytest.raises(SystemExit):
        await issue_key_command(partner="unknown-partner")
