"""Latency of the staff UI's busiest calls against a real uvicorn process.

    .venv/bin/python benchmarks/staff_bench.py                 # SQLite in a temp folder
    DATABASE_URL=postgres://... .venv/bin/python benchmarks/staff_bench.py

Seeds BENCH_TICKETS tickets through the API, creates a staff user with the
management command, signs in as the SPA does, then times the dashboard, the
ticket queue (plain and filtered) and the reply form. Stops by itself.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
from api_bench import CUSTOMER, PROJECT, free_port, run, start_server

TICKETS = int(os.environ.get("BENCH_TICKETS", "2000"))
STAFF_USER = ["--username", "bench", "--email", "bench@example.com"]
PASSWORD = "bench-password-123"  # noqa: S105 - a throw-away user in a temporary database


async def seed(base: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for start in range(0, TICKETS, 50):
            await asyncio.gather(
                *(
                    client.post(
                        "/customer/tickets",
                        headers=CUSTOMER,
                        json={"title": f"Seeded ticket {i}", "priority": ("low", "medium", "high")[i % 3]},
                    )
                    for i in range(start, min(start + 50, TICKETS))
                )
            )


async def scenarios(base: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as staff:
        await staff.get("/staff/")
        staff.headers["X-CSRFToken"] = staff.cookies["csrftoken"]
        login = await staff.post("/staff/public/login/", json={"username": "bench", "password": PASSWORD})
        login.raise_for_status()
        await run("GET /staff-dashboard/", lambda c, i: c.get("/staff-dashboard/"), staff)
        queue = {"__readable": "true", "__order": "-created_at", "__page_size": "15"}
        await run(
            "GET staff queue (page 1)", lambda c, i: c.get("/staff/api/tables/ticket/", params=queue), staff
        )
        await run(
            "GET staff queue (status=open, high)",
            lambda c, i: c.get(
                "/staff/api/tables/ticket/", params={**queue, "status": "open", "priority": "high"}
            ),
            staff,
        )
        await run(
            "POST form reply-to-customer",
            lambda c, i: c.post(
                "/staff/api/forms/reply-to-customer/", json={"ticket_id": 1 + i % TICKETS, "message": "On it"}
            ),
            staff,
        )


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="helpdesk-staff-bench-"))
    env = {
        **os.environ,
        "SQLITE_PATH": str(workdir / "bench.sqlite"),
        "MEDIA_ROOT": str(workdir / "media"),
        "APP_ENV": "development",
    }
    engine = "PostgreSQL" if env.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    port = free_port()
    server = start_server(env, port)
    try:
        subprocess.run(
            [sys.executable, "-m", "core.create_staff_user", "--password-stdin", *STAFF_USER],
            cwd=PROJECT,
            env=env,
            input=f"{PASSWORD}\n",
            text=True,
            check=True,
            capture_output=True,
        )
        base = f"http://127.0.0.1:{port}"
        asyncio.run(seed(base))
        print(
            f"{engine}, one uvicorn worker, {TICKETS} tickets, "
            f"{os.environ.get('BENCH_REQUESTS', '1000')} requests per scenario"
        )
        asyncio.run(scenarios(base))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
