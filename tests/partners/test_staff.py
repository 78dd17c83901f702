"""Partners in the staff UI: the tables, the delivery log, and the key and redeliver forms over HTTP."""

from __future__ import annotations

import httpx

from core.settings import get_settings
from partners.keys import issue_key
from partners.tables import Partner, PartnerKey
from tests.partners.helpers import client_for, make_partner, partner_with_key
from tests.test_staff_ui import staff, staff_user  # noqa: F401 - fixtures


async def test_partner_tables_and_forms_are_listed(staff: httpx.AsyncClient) -> None:  # noqa: F811
    tables = (await staff.get("/staff/api/tables/")).json()
    assert {"partner", "partner_key", "webhook_delivery"} <= set(tables)
    forms = {form["slug"] for form in (await staff.get("/staff/api/forms/")).json()}
    assert {"issue-partner-api-key", "revoke-partner-api-key", "redeliver-webhook"} <= forms


async def test_issue_key_form_shows_a_working_key_once(app, staff: httpx.AsyncClient) -> None:  # noqa: F811
    await make_partner(name="umbrella")
    response = await staff.post(
        "/staff/api/forms/issue-partner-api-key/",
        json={"partner_name": "umbrella", "label": "staging", "expires_in_days": 0},
    )
    assert response.status_code == 200, response.text
    key = response.json()["custom_form_success"].rsplit(" ", 1)[-1]
    async with client_for(app, key) as partner:
        created = await partner.post(
            "/external/tickets", json={"external_ref": "U-1", "title": "From staff key"}
        )
    assert created.status_code == 201
    listed = (await staff.get("/staff/api/tables/partner_key/")).json()["rows"]
    assert key not in str(listed)


async def test_partner_edits_are_validated_and_get_a_webhook_secret(staff: httpx.AsyncClient) -> None:  # noqa: F811
    partner_id = await make_partner(name="hooli")
    bad_url = await staff.patch(f"/staff/api/tables/partner/{partner_id}/", json={"webhook_url": "ftp://x"})
    assert bad_url.status_code == 422
    bad_ip = await staff.patch(f"/staff/api/tables/partner/{partner_id}/", json={"allowed_ips": "nope"})
    assert bad_ip.status_code == 422
    good = await staff.patch(
        f"/staff/api/tables/partner/{partner_id}/",
        json={"webhook_url": "https://hooks.example.com/in", "allowed_ips": "10.0.0.0/8 , 1.2.3.4"},
    )
    assert good.status_code == 200, good.text
    row = await Partner.select().where(Partner.id == partner_id).first()
    assert row["webhook_secret"].startswith("whsec_")
    assert row["allowed_ips"] == "10.0.0.0/8, 1.2.3.4"


async def test_keys_cannot_be_created_or_rewritten_in_the_table(staff: httpx.AsyncClient) -> None:  # noqa: F811
    partner_id = await make_partner(name="stark")
    created = await staff.post(
        "/staff/api/tables/partner_key/", json={"partner": partner_id, "prefix": "x", "digest": "0" * 64}
    )
    assert created.status_code == 422
    assert await PartnerKey.count().where(PartnerKey.partner == partner_id) == 0

    issued = await issue_key(get_settings(), partner_id, "old label")
    before = await PartnerKey.select().where(PartnerKey.id == issued.id).first()
    only_fixed = await staff.patch(f"/staff/api/tables/partner_key/{issued.id}/", json={"digest": "0" * 64})
    assert only_fixed.status_code == 422
    edited = await staff.patch(
        f"/staff/api/tables/partner_key/{issued.id}/",
        json={"digest": "0" * 64, "prefix": "hdk_forged__", "label": "new label"},
    )
    assert edited.status_code == 200, edited.text
    after = await PartnerKey.select().where(PartnerKey.id == issued.id).first()
    assert (after["digest"], after["prefix"], after["label"]) == (
        before["digest"],
        before["prefix"],
        "new label",
    )


async def test_staff_revoke_a_key_by_editing_it(app, staff: httpx.AsyncClient) -> None:  # noqa: F811
    partner_id = await make_partner(name="wayne")
    issued = await issue_key(get_settings(), partner_id)
    response = await staff.patch(
        f"/staff/api/tables/partner_key/{issued.id}/", json={"revoked_at": "2026-01-01T00:00:00+00:00"}
    )
    assert response.status_code == 200, response.text
    async with client_for(app, issued.key) as partner:
        refused = await partner.post("/external/tickets", json={"external_ref": "R-1", "title": "Revoked"})
    assert refused.status_code == 403


async def test_tickets_show_their_partner_by_name(partner, staff: httpx.AsyncClient) -> None:  # noqa: F811
    created = await partner.post("/external/tickets", json={"external_ref": "S-1", "title": "Shown"})
    ticket_id = created.json()["ticket_id"]
    response = await staff.get("/staff/api/tables/ticket/", params={"__readable": "true", "id": ticket_id})
    assert response.status_code == 200, response.text
    assert response.json()["rows"][0]["partner_readable"] == "default"


async def test_a_partner_with_tickets_cannot_be_deleted(app, staff: httpx.AsyncClient) -> None:  # noqa: F811
    used_id, key = await partner_with_key(name="used")
    unused_id = await make_partner(name="unused")
    async with client_for(app, key) as partner:
        await partner.post("/external/tickets", json={"external_ref": "D-1", "title": "Keeps its partner"})
    refused = await staff.delete(f"/staff/api/tables/partner/{used_id}/")
    assert refused.status_code == 409
    assert "deactivate" in refused.text
    assert await Partner.exists().where(Partner.id == used_id)
    deleted = await staff.delete(f"/staff/api/tables/partner/{unused_id}/")
    assert deleted.status_code in (200, 204)
    assert not await Partner.exists().where(Partner.id == unused_id)
