"""The staff dashboard: the queue at a glance, for signed-in staff only."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Redirect, Template

from core.staff import DASHBOARD_PATH, LOGIN_PATH, SITE_NAME
from dashboard.auth import signed_in_staff
from dashboard.charts import PRIORITY_COLOURS, STATUS_COLOURS, bar_chart, day_chart
from dashboard.queries import DAYS, queue_overview


class DashboardController(Controller):
    path = DASHBOARD_PATH.rstrip("/")
    include_in_schema = False

    @get("/", name="staff-dashboard", cache_control=None)
    async def dashboard(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        user = await signed_in_staff(request)
        if user is None:
            # Anonymous visitors get the login page, never the numbers.
            return Redirect(LOGIN_PATH, status_code=303)
        overview = await queue_overview()
        stats = overview.stats
        context = {
            "site_name": SITE_NAME,
            "user": user.email or user.username,
            "overview": overview,
            "total": sum(stats.by_status.values()),
            "charts": {
                "open_by_priority": bar_chart(
                    "Open tickets by priority",
                    overview.open_by_priority,
                    PRIORITY_COLOURS,
                    "open_by_priority",
                ),
                "by_status": bar_chart("Tickets by status", stats.by_status, STATUS_COLOURS, "by_status"),
                "by_category": bar_chart("Tickets by category", stats.by_category, key="by_category"),
                "per_day": day_chart(f"Tickets created per day, last {DAYS} days", overview.created_per_day),
            },
            "days": DAYS,
        }
        return Template(
            template_name="dashboard.html",
            context=context,
            headers={"Cache-Control": "no-store"},
        )
