"""`piccolo partners issue_key`: a new API key for a partner, printed once."""

from __future__ import annotations

from core.settings import get_settings


async def issue_key(partner: str, label: str = "", expires_in_days: int = 0, create: bool = False) -> None:
    """Issue an API key for the partner named `partner` and print it (it is not stored in clear).

    :param partner: the partner's name.
    :param label: what the key is for, shown to staff.
    :param expires_in_days: 0 for a key that does not expire.
    :param create: create the partner if there is none with that name.
    """
    from partners.keys import expiry_in_days
    from partners.keys import issue_key as issue
    from partners.tables import Partner

    row = await Partner.select(Partner.id).where(Partner.name == partner).first()
    if row is None and not create:
        raise SystemExit(f"No partner named {partner!r} (pass --create=true to create it)")
    if row is None:
        await Partner.insert(Partner(name=partner)).on_conflict(action="DO NOTHING")
        row = await Partner.select(Partner.id).where(Partner.name == partner).first()
    issued = await issue(get_settings(), row["id"], label, expiry_in_days(expires_in_days))
    print(f"API key for {partner!r} (shown once, store it now): {issued.key}")
