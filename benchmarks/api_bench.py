"""Throughput and latency of the main endpoints against a real uvicorn process.

    .venv/bin/python benchmarks/api_bench.py                 # SQLite in a temp folder
    DATABASE_URL=postgres://... .venv/bin/python benchmarks/api_bench.py

Starts the server on a free loopback port, migrates, seeds some tickets, then
runs a fixed number of requests per scenario with a fixed concurrency and
prints requests/second and latency percentiles. Stops by itself.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

PROJECT = Path(__file__).resolve().parent.parent
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "1000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "20"))
CUSTOMER = {"X-ROLE": "customer", "X-USER": "alice@example.com"}
ADMIN = {"X-ROLE": "admin", "X-USER": "agent@example.com"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    python = sys.executable
    subprocess.run(
        [python, "-m", "piccolo.main", "migrations", "forwards", "all"],
        cwd=PROJECT,
        env=env,
        check=True,
        capture_output=True,
    )
    server = subprocess.Popen(
        [
            python,
            "-m",
            "uvicorn",
            "main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # the JSON access log is still written, just not to the terminal
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("server did not start")


async def run(
    name: str, call: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]], client: httpx.AsyncClient
) -> None:
    latencies: list[float] = []
    errors = 0
    counter = iter(range(REQUESTS))

    async def worker() -> None:
        nonlocal errors
        for i in counter:
            started = time.perf_counter()
            response = await call(client, i)
            latencies.append(time.perf_counter() - started)
            errors += response.status_code >= 400

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    ms = sorted(x * 1000 for x in latencies)
    p = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]  # noqa: E731
    print(
        f"{name:<34} {REQUESTS / elapsed:8.0f} req/s   p50 {p(0.50):6.1f} ms   p95 {p(0.95):6.1f} ms   "
        f"p99 {p(0.99):6.1f} ms   mean {statistics.fmean(ms):6.1f} ms   errors {errors}"
    )


async def scenarios(base: str) -> None:
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        # No database: what every request pays for the framework and the middleware.
        await run("GET /healthz", lambda c, i: c.get("/healthz"), client)
        await run(
            "POST /customer/tickets (JSON)",
            lambda c, i: c.post(
                "/customer/tickets", headers=CUSTOMER, json={"title": f"Bench ticket {i}", "priority": "high"}
            ),
            client,
        )
        await run(
            "POST /external/tickets (multipart)",
            lambda c, i: c.post(
                "/external/tickets",
                headers={"X-API-KEY": "dev-external-api-key"},
                data={"external_ref": f"B-{i}", "title": "Partner alert"},
                files={"attachments": ("log.txt", b"x" * 2048, "text/plain")},
            ),
            client,
        )
        await run(
            "GET /customer/tickets (page)", lambda c, i: c.get("/customer/tickets", headers=CUSTOMER), client
        )
        await run(
            "GET /customer/tickets/{id}",
            lambda c, i: c.get(f"/customer/tickets/{1 + i % 500}", headers=CUSTOMER),
            client,
        )
        await run(
            "GET /admin/tickets?q=ticket&status=open",
            lambda c, i: c.get("/admin/tickets", headers=ADMIN, params={"q": "ticket 1", "status": "open"}),
            client,
        )
        await run(
            "GET /admin/tickets/stats", lambda c, i: c.get("/admin/tickets/stats", headers=ADMIN), client
        )
        await run(
            "POST /admin/tickets/{id}/comments",
            lambda c, i: c.post(
                f"/admin/tickets/{1 + i % 500}/comments", headers=ADMIN, json={"message": "Looking into it"}
            ),
            client,
        )


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="helpdesk-bench-"))
    env = {
        **os.environ,
        "SQLITE_PATH": str(workdir / "bench.sqlite"),
        "MEDIA_ROOT": str(workdir / "media"),
        "EXTERNAL_TICKET_API_KEY": "dev-external-api-key",
        "APP_ENV": "development",
        # The benchmark measures throughput, not the per-caller rate limits.
        "CUSTOMER_RATE_LIMIT_PER_MINUTE": "1000000",
        "PARTNER_RATE_LIMIT_PER_MINUTE": "1000000",
    }
    engine = "PostgreSQL" if env.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    port = free_port()
    server = start_server(env, port)
    try:
        print(f"{engine}, one uvicorn worker, {REQUESTS} requests per scenario, concurrency {CONCURRENCY}")
        asyncio.run(scenarios(f"http://127.0.0.1:{port}"))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
