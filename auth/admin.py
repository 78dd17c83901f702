"""Staff UI views of sign-in records: the development outbox and refresh-token families."""

from __future__ import annotations

from piccolo_admin.endpoints import OrderBy, TableConfig

from auth.tables import OutboxMail, RefreshToken

AUTH_TABLE_CONFIGS = [
    TableConfig(
        OutboxMail,
        visible_columns=[OutboxMail.id, OutboxMail.recipient, OutboxMail.subject, OutboxMail.created_at],
        visible_filters=[OutboxMail.recipient, OutboxMail.created_at],
        link_column=OutboxMail.subject,
        order_by=[OrderBy(OutboxMail.created_at, ascending=False)],
        menu_group="Sign-in",
    ),
    TableConfig(
        RefreshToken,
        visible_columns=[
            RefreshToken.id,
            RefreshToken.user,
            RefreshToken.family,
            RefreshToken.created_at,
            RefreshToken.expires_at,
            RefreshToken.used_at,
            RefreshToken.revoked_at,
        ],
        visible_filters=[RefreshToken.user, RefreshToken.family, RefreshToken.revoked_at],
        order_by=[OrderBy(RefreshToken.created_at, ascending=False)],
        menu_group="Sign-in",
    ),
]
