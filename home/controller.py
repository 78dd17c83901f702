"""`/`: what this service is, and where to go next; `/healthz` and `/readyz` for probes."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Template

from core.health import readiness_problem


class Readiness(msgspec.Struct):
    status: str
    detail: str | None = None


class HomeController(Controller):
    include_in_schema = False

    @get("/", operation_id="home", summary="Landing page")
    async def home(self, request: Request[Any, Any, Any]) -> Template:
        return Template("home.html", context={"base_url": str(request.base_url).rstrip("/")})

    @get("/healthz", operation_id="healthz", summary="Liveness: the process answers", include_in_schema=True)
    async def healthz(self) -> dict[str, str]:
        return {"status": "ok"}

    @get(
        "/readyz",
        operation_id="readyz",
        summary="Readiness: the database answers and all migrations are applied",
        include_in_schema=True,
        responses={
            503: ResponseSpec(
                data_container=Readiness, description="Not ready; `detail` says why", generate_examples=False
            )
        },
    )
    async def readyz(self) -> Response[Readiness]:
        problem = await readiness_problem()
        if problem is not None:
            return Response(Readiness(status="unavailable", detail=problem), status_code=503)
        return Response(Readiness(status="ok"))
