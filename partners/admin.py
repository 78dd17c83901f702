"""The staff UI's view of partners: their keys, the webhook delivery log, and actions
(issue a key, shown once; revoke a key; redeliver a webhook)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from piccolo_admin.endpoints import FormConfig, OrderBy, TableConfig
from piccolo_api.crud.hooks import Hook, HookType
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.requests import Request

from core.settings import get_settings
from partners.keys import check_allowed_ips, expiry_in_days, issue_key, revoke_key
from partners.tables import Partner, PartnerKey, WebhookDelivery
from partners.webhooks import new_webhook_secret, redeliver
from tickets.tables import Ticket


def _refuse(message: str, status_code: int = 422) -> HTTPException:
    return HTTPException(status_code=status_code, detail=message)


def clean_partner(values: dict[str, Any]) -> dict[str, Any]:
    if "name" in values:
        values["name"] = (values["name"] or "").strip()
        if not values["name"]:
            raise _refuse("name may not be blank")
    if "webhook_url" in values:
        url = (values["webhook_url"] or "").strip() or None
        if url is not None and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc):
            raise _refuse("webhook_url must be an http:// or https:// URL")
        values["webhook_url"] = url
        if url and not values.get("webhook_secret"):
            values["webhook_secret"] = new_webhook_secret()
    if "allowed_ips" in values:
        try:
            values["allowed_ips"] = check_allowed_ips(values["allowed_ips"] or "")
        except ValueError as error:
            raise _refuse(str(error)) from None
    limit = values.get("rate_limit_per_minute")
    if limit is not None and limit < 1:
        raise _refuse("rate_limit_per_minute must be at least 1, or empty for the default")
    return values


async def check_new_partner(row: Partner) -> Partner:
    values = clean_partner({c._meta.name: getattr(row, c._meta.name) for c in row._meta.columns})
    for key, value in values.items():
        setattr(row, key, value)
    return row


async def check_partner_patch(row_id: Any, values: dict[str, Any]) -> dict[str, Any]:
    if "webhook_url" in values and "webhook_secret" not in values:
        current = await Partner.select(Partner.webhook_secret).where(Partner.id == row_id).first()
        values["webhook_secret"] = current["webhook_secret"] if current else None
    return clean_partner(values)


async def refuse_partner_with_tickets(row_id: Any) -> None:
    used = await Ticket.count().where(Ticket.partner == row_id)
    if used:
        raise _refuse(f"This partner sent {used} ticket(s); deactivate it instead of deleting it.", 409)


KEY_EDITABLE = ("label", "expires_at", "revoked_at")


def _column_name(key: Any) -> str:
    """Patch values are keyed by Column objects, whose == builds a query clause: compare names."""
    return key._meta.name if hasattr(key, "_meta") else str(key)


async def keep_key_fixed(row_id: Any, values: dict[str, Any]) -> dict[str, Any]:
    """Keys are issued by the form; staff may only relabel, expire or revoke them.

    The edit form sends every field back, so the others are dropped, not refused.
    """
    kept = {key: value for key, value in values.items() if _column_name(key) in KEY_EDITABLE}
    if not kept:
        raise _refuse(f"Only {', '.join(KEY_EDITABLE)} can be changed; issue a new key instead.")
    return kept


async def refuse_key_creation(row: PartnerKey) -> PartnerKey:
    raise _refuse("Use the 'Issue partner API key' action: keys are generated and shown once.")


class IssueKeyForm(BaseModel):
    partner_name: str = Field(description="The partner's name, exactly as in the Partner table.")
    label: str = Field(default="", description="What the key is for (shown to staff).")
    expires_in_days: int = Field(default=0, ge=0, le=3650, description="0: the key does not expire.")


async def issue_key_action(request: Request, data: IssueKeyForm) -> str:
    row = await Partner.select(Partner.id).where(Partner.name == data.partner_name.strip()).first()
    if row is None:
        raise ValueError(f"No partner named '{data.partner_name}'")
    issued = await issue_key(
        get_settings(), row["id"], data.label.strip(), expiry_in_days(data.expires_in_days)
    )
    return f"New key for {data.partner_name} — copy it now, it is not shown again: {issued.key}"


class RevokeKeyForm(BaseModel):
    key_id: int = Field(description="The id of the key in the Partner key table.")


async def revoke_key_action(request: Request, data: RevokeKeyForm) -> str:
    if not await revoke_key(data.key_id):
        raise ValueError(f"No active key with id {data.key_id}")
    return f"Key {data.key_id} is revoked; requests with it now get 403."


class RedeliverForm(BaseModel):
    delivery_id: int = Field(description="The id of the row in the Webhook delivery table.")


async def redeliver_action(request: Request, data: RedeliverForm) -> str:
    if not await redeliver(get_settings(), data.delivery_id):
        raise ValueError(f"No delivery {data.delivery_id}, or it is being sent right now")
    return f"Delivery {data.delivery_id} is queued and will be sent again shortly."


TABLE_CONFIGS = [
    TableConfig(
        Partner,
        visible_columns=[Partner.id, Partner.name, Partner.active, Partner.webhook_url, Partner.created_at],
        visible_filters=[Partner.name, Partner.active],
        link_column=Partner.name,
        order_by=[OrderBy(Partner.name)],
        hooks=[
            Hook(HookType.pre_save, check_new_partner),
            Hook(HookType.pre_patch, check_partner_patch),
            Hook(HookType.pre_delete, refuse_partner_with_tickets),
        ],
        menu_group="Partners",
    ),
    TableConfig(
        PartnerKey,
        visible_columns=[
            PartnerKey.id,
            PartnerKey.partner,
            PartnerKey.prefix,
            PartnerKey.label,
            PartnerKey.created_at,
            PartnerKey.expires_at,
            PartnerKey.revoked_at,
            PartnerKey.last_used_at,
        ],
        visible_filters=[PartnerKey.partner, PartnerKey.prefix, PartnerKey.revoked_at],
        order_by=[OrderBy(PartnerKey.created_at, ascending=False)],
        hooks=[Hook(HookType.pre_save, refuse_key_creation), Hook(HookType.pre_patch, keep_key_fixed)],
        menu_group="Partners",
    ),
    TableConfig(
        WebhookDelivery,
        visible_columns=[
            WebhookDelivery.id,
            WebhookDelivery.partner,
            WebhookDelivery.ticket_id,
            WebhookDelivery.event_type,
            WebhookDelivery.status,
            WebhookDelivery.attempts,
            WebhookDelivery.last_status_code,
            WebhookDelivery.last_error,
            WebhookDelivery.next_attempt_at,
            WebhookDelivery.delivered_at,
            WebhookDelivery.created_at,
        ],
        visible_filters=[
            WebhookDelivery.partner,
            WebhookDelivery.status,
            WebhookDelivery.event_type,
            WebhookDelivery.ticket_id,
        ],
        order_by=[OrderBy(WebhookDelivery.created_at, ascending=False)],
        menu_group="Partners",
    ),
]

FORM_CONFIGS = [
    FormConfig(
        name="Issue partner API key",
        pydantic_model=IssueKeyForm,
        endpoint=issue_key_action,
        description="Generates a key for a partner and shows it once. Older keys work until revoked.",
        form_group="Partners",
    ),
    FormConfig(
        name="Revoke partner API key",
        pydantic_model=RevokeKeyForm,
        endpoint=revoke_key_action,
        description="Requests with the key are refused from now on.",
        form_group="Partners",
    ),
    FormConfig(
        name="Redeliver webhook",
        pydantic_model=RedeliverForm,
        endpoint=redeliver_action,
        description="Sends a delivered or failed webhook event again (same event id).",
        form_group="Partners",
    ),
]
