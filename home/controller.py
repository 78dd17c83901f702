"""`/`: what this service is, and where to go next."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template


class HomeController(Controller):
    include_in_schema = False

    @get("/", operation_id="home", summary="Landing page")
    async def home(self, request: Request[Any, Any, Any]) -> Template:
        return Template("home.html", context={"base_url": str(request.base_url).rstrip("/")})

    @get("/healthz", operation_id="healthz", summary="Liveness: the process answers", include_in_schema=True)
    async def healthz(self) -> dict[str, str]:
        return {"status": "ok"}
