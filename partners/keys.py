"""API keys: issued at random, shown once, kept as keyed hashes, found by a short prefix.

An issued key looks like `hdk_<8 characters>_<43 characters>`; its first 12
characters are the lookup prefix (shown in the staff UI to tell keys apart).
The built-in default partner's key is the EXTERNAL_TICKET_API_KEY setting,
which has no such shape: it is stored under the marker prefix `(setting)`.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.db import write_transaction
from core.settings import Settings
from partners.tables import Partner, PartnerKey
from tickets.tables import utc_now

KEY_PREFIX_LENGTH = 12
SETTING_KEY_PREFIX = "(setting)"
DEFAULT_PARTNER_NAME = "default"
# last_used_at is a hint for staff, not an audit log: write it at most once a minute per key.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class AuthenticatedPartner:
    id: int
    name: str
    key_id: int
    rate_limit: int | None


@dataclass(frozen=True, slots=True)
class IssuedKey:
    id: int
    key: str
    prefix: str


def key_digest(settings: Settings, key: str) -> str:
    return settings.digest_secret(key).hex()


def new_key() -> str:
    return f"hdk_{secrets.token_urlsafe(6)[:8]}_{secrets.token_urlsafe(32)}"


def ip_allowed(allowed: str, client_ip: str | None) -> bool:
    """Empty allows any source; otherwise the client must be in one of the addresses or networks."""
    entries = [item.strip() for item in allowed.split(",") if item.strip()]
    if not entries:
        return True
    if client_ip is None:
        return False
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    return any(address in network for network in _networks(entries))


def _networks(entries: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The valid entries; one mistyped outside the staff UI (which checks them) allows nothing."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue
    return networks


def check_allowed_ips(allowed: str) -> str:
    """Normalise the staff UI's list; a wrong entry is a ValueError that names it."""
    entries = [item.strip() for item in (allowed or "").split(",") if item.strip()]
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"'{entry}' is not an IP address or network") from None
    return ", ".join(entries)


async def authenticate(
    settings: Settings, given: str | None, client_ip: str | None
) -> AuthenticatedPartner | None:
    """The partner a key belongs to, or None for any bad, revoked, expired or wrong-source key.

    Candidates are found by prefix; every candidate's digest is compared in
    constant time, so the answer never depends on how much of a key was right.
    """
    if not given:
        return None
    digest = key_digest(settings, given)
    rows = await PartnerKey.select(
        PartnerKey.id,
        PartnerKey.digest,
        PartnerKey.expires_at,
        PartnerKey.revoked_at,
        PartnerKey.last_used_at,
        PartnerKey.partner.id.as_alias("partner_id"),
        PartnerKey.partner.name.as_alias("partner_name"),
        PartnerKey.partner.active.as_alias("active"),
        PartnerKey.partner.allowed_ips.as_alias("allowed_ips"),
        PartnerKey.partner.rate_limit_per_minute.as_alias("rate_limit"),
    ).where(PartnerKey.prefix.is_in([given[:KEY_PREFIX_LENGTH], SETTING_KEY_PREFIX]))
    match = None
    for row in rows:
        if hmac.compare_digest(row["digest"], digest):
            match = row
    if match is None or not _usable(match, utc_now()) or not ip_allowed(match["allowed_ips"], client_ip):
        return None
    await _touch(match)
    return AuthenticatedPartner(match["partner_id"], match["partner_name"], match["id"], match["rate_limit"])


def _usable(row: dict, now: datetime) -> bool:
    expired = row["expires_at"] is not None and row["expires_at"] <= now
    return bool(row["active"]) and row["revoked_at"] is None and not expired


async def _touch(row: dict) -> None:
    now = utc_now()
    last = row["last_used_at"]
    if last is None or now - last >= LAST_USED_RESOLUTION:
        async with write_transaction(PartnerKey._meta.db):
            await PartnerKey.update({PartnerKey.last_used_at: now}).where(PartnerKey.id == row["id"])


async def issue_key(
    settings: Settings, partner_id: int, label: str = "", expires_at: datetime | None = None
) -> IssuedKey:
    """A new random key for the partner; only its digest is stored, the key is returned once."""
    key = new_key()
    row = PartnerKey(
        partner=partner_id,
        label=label,
        prefix=key[:KEY_PREFIX_LENGTH],
        digest=key_digest(settings, key),
        expires_at=expires_at,
    )
    await row.save()
    return IssuedKey(id=row.id, key=key, prefix=row.prefix)


async def revoke_key(key_id: int) -> bool:
    revoked = (
        await PartnerKey.update({PartnerKey.revoked_at: utc_now()})
        .where(PartnerKey.id == key_id, PartnerKey.revoked_at.is_null())
        .returning(PartnerKey.id)
    )
    return bool(revoked)


async def ensure_default_partner(settings: Settings) -> int:
    """The built-in partner whose key is EXTERNAL_TICKET_API_KEY; safe to run from many processes.

    Inserts are ON CONFLICT DO NOTHING on unique columns, and a changed setting
    revokes the previous setting key with a conditional update. A setting key
    that staff revoked stays revoked: choose a new value to bring it back.
    """
    await Partner.insert(Partner(name=DEFAULT_PARTNER_NAME)).on_conflict(action="DO NOTHING")
    partner = await Partner.select(Partner.id).where(Partner.name == DEFAULT_PARTNER_NAME).first()
    partner_id = partner["id"]
    digest = settings.external_api_key_digest.hex()
    await PartnerKey.insert(
        PartnerKey(
            partner=partner_id, label="EXTERNAL_TICKET_API_KEY", prefix=SETTING_KEY_PREFIX, digest=digest
        )
    ).on_conflict(action="DO NOTHING")
    await PartnerKey.update({PartnerKey.revoked_at: utc_now()}).where(
        PartnerKey.prefix == SETTING_KEY_PREFIX, PartnerKey.digest != digest, PartnerKey.revoked_at.is_null()
    )
    return partner_id


def expiry_in_days(days: int | None) -> datetime | None:
    return utc_now() + timedelta(days=days) if days else None
