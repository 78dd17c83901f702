"""Partner paths against a real uvicorn process: key lookup, duplicates, Idempotency-Key
replays, and webhook delivery throughput to a loopback receiver.

    .venv/bin/python benchmarks/partners_bench.py                 # SQLite in a temp folder
    DATABASE_URL=postgres://... .venv/bin/python benchmarks/partners_bench.py

Prints requests/second and latency percentiles per scenario, then how long the
worker took to deliver a batch of webhook events.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_bench import CONCURRENCY, PROJECT, REQUESTS, free_port, run, start_server

ADMIN = {"X-ROLE": "admin", "X-USER": "agent@example.com"}
EVENTS = int(os.environ.get("BENCH_EVENTS", "300"))


def piccolo(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "piccolo.main", *args], cwd=PROJECT, env=env, check=True, capture_output=True
    )
    return done.stdout.decode()


def set_webhook(env: dict[str, str], url: str) -> None:
    code = (
        "import asyncio\nfrom partners.tables import Partner\n"
        f"asyncio.run(Partner.update({{Partner.webhook_url: {url!r}, Partner.webhook_secret: 'bench'}})"
        ".where(Partner.name == 'bench').run())"
    )
    subprocess.run([sys.executable, "-c", code], cwd=PROJECT, env=env, check=True)


async def receiver(expected: int) -> tuple[asyncio.Server, list[float], asyncio.Event]:
    arrivals: list[float] = []
    all_in = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            ),
            0,
        )
        await reader.readexactly(length)
        arrivals.append(time.perf_counter())
        if len(arrivals) >= expected:
            all_in.set()
        writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0), arrivals, all_in


async def scenarios(base: str, key: str, hook: tuple[asyncio.Server, list[float], asyncio.Event]) -> None:
    partner = {"X-API-KEY": key}
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        await run(
            "POST /external/tickets (issued key)",
            lambda c, i: c.post(
                "/external/tickets", headers=partner, json={"external_ref": f"P-{i}", "title": "A"}
            ),
            client,
        )
        await run(
            "POST /external/tickets (duplicate)",
            lambda c, i: c.post(
                "/external/tickets", headers=partner, json={"external_ref": "P-1", "title": "A"}
            ),
            client,
        )
        await run(
            "POST /external/tickets (new Idem-Key)",
            lambda c, i: c.post(
                "/external/tickets",
                headers={**partner, "Idempotency-Key": f"k-{i}"},
                json={"external_ref": f"I-{i}", "title": "A"},
            ),
            client,
        )
        await run(
            "POST /external/tickets (replay)",
            lambda c, i: c.post(
                "/external/tickets",
                headers={**partner, "Idempotency-Key": "k-1"},
                json={"external_ref": "I-1", "title": "A"},
            ),
            client,
        )
        _, arrivals, all_in = hook
        started = time.perf_counter()
        await run(
            "PUT /admin/tickets/{id} (+ outbox row)",
            lambda c, i: c.put(
                f"/admin/tickets/{1 + i % EVENTS}",
                headers=ADMIN,
                json={"status": ("in_progress", "resolved")[i // EVENTS % 2]},
            ),
            client,
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_in.wait(), 120)
        elapsed = time.perf_counter() - started
        rate = len(arrivals) / elapsed
        print(f"webhooks delivered {len(arrivals)}/{REQUESTS} in {elapsed:.1f} s ({rate:.0f}/s)")


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="helpdesk-partners-bench-"))
    env = {
        **os.environ,
        "SQLITE_PATH": str(workdir / "bench.sqlite"),
        "MEDIA_ROOT": str(workdir / "media"),
        "APP_ENV": "development",
        "PARTNER_RATE_LIMIT_PER_MINUTE": "1000000",
        "WEBHOOK_POLL_SECONDS": "0.1",
    }
    engine = "PostgreSQL" if env.get("DATABASE_URL", "").startswith("postgres") else "SQLite"

    async def go() -> None:
        hook = await receiver(REQUESTS)
        port = free_port()
        server = start_server(env, port)
        try:
            key = piccolo(env, "partners", "issue_key", "--partner=bench", "--create=true").split()[-1]
            set_webhook(env, f"http://127.0.0.1:{hook[0].sockets[0].getsockname()[1]}/hook")
            print(
                f"{engine}, one uvicorn worker, {REQUESTS} requests per scenario, concurrency {CONCURRENCY}"
            )
            await scenarios(f"http://127.0.0.1:{port}", key, hook)
        finally:
            server.terminate()
            server.wait(timeout=15)
            hook[0].close()

    asyncio.run(go())


if __name__ == "__main__":
    main()
