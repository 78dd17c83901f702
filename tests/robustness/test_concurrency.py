"""Concurrent writers break nothing: every comment stored in order, every field update kept,
and SQLite never answers "database is locked", even with two server processes on one file."""

from __future__ import annotations

import asyncio
from datetime import datetime

import httpx

from tests.conftest import AGENT, ALICE
from tests.robustness.server import Server
from tickets.tables import Ticket, TicketEvent

CUSTOMER = {"X-ROLE": "customer", "X-USER": ALICE}
ADMIN = {"X-ROLE": "admin", "X-USER": AGENT}


async def test_100_concurrent_comments_are_all_stored_in_order(customer, admin) -> None:
    ticket = (await customer.post("/customer/tickets", json={"title": "Busy ticket"})).json()
    path = f"/tickets/{ticket['id']}/comments"

    responses = await asyncio.gather(
        *(
            (customer if n % 2 else admin).post(
                ("/customer" if n % 2 else "/admin") + path, json={"message": f"comment {n}"}
            )
            for n in range(100)
        )
    )

    assert [r.status_code for r in responses] == [201] * 100
    sent = sorted(r.json()["message"] for r in responses)
    assert sent == sorted(f"comment {n}" for n in range(100))
    comments = (await customer.get(f"/customer/tickets/{ticket['id']}")).json()["comments"]
    assert sorted(c["message"] for c in comments) == sent
    ids = [c["id"] for c in comments]
    times = [datetime.fromisoformat(c["created_at"]) for c in comments]
    assert ids == sorted(ids) and len(set(ids)) == 100
    assert times == sorted(times), "created_at must rise with the id"
    events = await TicketEvent.count().where(
        TicketEvent.ticket == ticket["id"], TicketEvent.kind == "commented"
    )
    assert events == 100


async def test_concurrent_updates_of_every_field_of_one_ticket_all_survive(customer, admin) -> None:
    ticket = (await customer.post("/customer/tickets", json={"title": "Original"})).json()
    changes = [
        {"status": "in_progress"},
        {"priority": "high"},
        {"category": "billing"},
        {"assigned_to": AGENT},
        {"title": "Renamed"},
        {"description": "Now described"},
    ]

    responses = await asyncio.gather(
        *(admin.patch(f"/admin/tickets/{ticket['id']}", json=c) for c in changes)
    )

    assert [r.status_code for r in responses] == [200] * len(changes)
    final = (await admin.get(f"/admin/tickets/{ticket['id']}")).json()
    for change in changes:
        [(field, value)] = change.items()
        assert final[field] == value, field
    recorded = await TicketEvent.select(TicketEvent.changes).where(
        TicketEvent.ticket == ticket["id"], TicketEvent.kind == "updated"
    )
    assert len(recorded) == len(changes)


async def test_concurrent_creates_never_fail_in_process(customer) -> None:
    responses = await asyncio.gather(
        *(customer.post("/customer/tickets", json={"title": f"Burst {n}"}) for n in range(60))
    )
    assert [r.status_code for r in responses] == [201] * 60
    assert await Ticket.count() == 60


async def test_concurrent_writes_across_two_server_processes() -> None:
    """On SQLite this is two processes writing one file; on PostgreSQL, two pools."""
    with Server() as first, Server() as second:
        async with (
            httpx.AsyncClient(base_url=first.url, headers=CUSTOMER, timeout=60) as one,
            httpx.AsyncClient(base_url=second.url, headers=CUSTOMER, timeout=60) as two,
        ):
            created = await asyncio.gather(
                *(
                    (one if n % 2 else two).post(
                        "/customer/tickets",
                        data={"title": f"Two-process {n}"},
                        files=[("attachments", (f"{n}.txt", f"file {n}".encode(), "text/plain"))],
                    )
                    for n in range(80)
                )
            )
            assert [r.status_code for r in created] == [201] * 80, [r.text for r in created if r.is_error][:3]
            ticket_id = created[0].json()["id"]
            commented = await asyncio.gather(
                *(
                    (one if n % 2 else two).post(
                        f"/customer/tickets/{ticket_id}/comments", json={"message": f"c{n}"}
                    )
                    for n in range(40)
                )
            )
            assert [r.status_code for r in commented] == [201] * 40, [
                r.text for r in commented if r.is_error
            ][:3]
            comments = (await one.get(f"/customer/tickets/{ticket_id}")).json()["comments"]
        for server in (first, second):
            assert "locked" not in server.output() and "Traceback" not in server.output()
    titles = {row["title"] for row in await Ticket.select(Ticket.title)}
    assert titles == {f"Two-process {n}" for n in range(80)}
    assert sorted(c["message"] for c in comments) == sorted(f"c{n}" for n in range(40))
    ids = [c["id"] for c in comments]
    times = [c["created_at"] for c in comments]
    assert ids == sorted(ids) and times == sorted(times)
