"""Per-request cost of the app in-process (no network, no server), to compare builds.

    .venv/bin/python benchmarks/middleware_bench.py

Calls the ASGI app directly, one request at a time, and prints the best of a few
rounds in microseconds per request, so that noise from other processes on the
machine counts as little as possible. Run it on two checkouts to see what a
change (such as the request-id, security-header, access-log and Prometheus
middleware) adds to every request.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "2000"))
CUSTOMER = [(b"x-role", b"customer"), (b"x-user", b"alice@example.com")]
PATHS = [
    ("GET /healthz (no database)", "/healthz", []),
    ("GET /categories (one query)", "/categories", []),
    ("GET /customer/tickets/1 (404)", "/customer/tickets/1", CUSTOMER),
]


def scope_for(path: str, headers: list[tuple[bytes, bytes]]) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench"), *headers],
        "server": ("bench", 80),
        "client": ("127.0.0.1", 50000),
    }


async def call(app, path: str, headers: list[tuple[bytes, bytes]]) -> int:
    status = 0

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope_for(path, headers), receive, send)
    return status


async def bench() -> None:
    sys.path.insert(0, str(PROJECT))
    from main import create_app

    app = create_app()
    for hook in app.on_startup:
        await hook(app)
    print(f"in-process, {REQUESTS} sequential requests, best of {ROUNDS} rounds")
    for label, path, headers in PATHS:
        best = float("inf")
        for _ in range(ROUNDS):
            started = time.perf_counter()
            for _ in range(REQUESTS):
                await call(app, path, headers)
            best = min(best, (time.perf_counter() - started) / REQUESTS)
        status = await call(app, path, headers)
        print(f"{label:34} {best * 1e6:8.1f} us/request   (status {status})")
    for hook in app.on_shutdown:
        await hook(app)


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="helpdesk-mwbench-"))
    os.environ.setdefault("SQLITE_PATH", str(workdir / "bench.sqlite"))
    os.environ.setdefault("MEDIA_ROOT", str(workdir / "media"))
    subprocess.run(
        [sys.executable, "-m", "piccolo.main", "migrations", "forwards", "all"],
        cwd=PROJECT,
        check=True,
        capture_output=True,
    )
    asyncio.run(bench())


if __name__ == "__main__":
    main()
