"""Backfills over the real broker and ClickHouse: the API in-process, the sink beside it
(the events a backfill makes reach ClickHouse, where the next backfill finds them),
the stored requests written into ClickHouse as the sink writes them."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from hookhouse.common import topics
from hookhouse.common.domain.ids import derived_id
from hookhouse.common.settings import Settings
from hookhouse.sink.service import Sink
from tests.api_client import Caller, Tenants, ok, running_api
from tests.e2e.running import wait_for
from tests.integration.test_api import RECENT, insert, request_row, topic_records

pytestmark = pytest.mark.integration

SINCE = (RECENT - timedelta(hours=1)).isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def sink(settings: Settings) -> Iterator[None]:
    """The sink on its own thread and loop, for the module."""
    started: dict[str, Any] = {}
    ready = threading.Event()

    def run() -> None:
        async def serve() -> None:
            started["loop"], started["stop"] = asyncio.get_running_loop(), asyncio.Event()
            ready.set()
            await Sink(settings).run(started["stop"])

        asyncio.run(serve())

    thread = threading.Thread(target=run, name="sink", daemon=True)
    thread.start()
    assert ready.wait(10)
    yield
    started["loop"].call_soon_threadsafe(started["stop"].set)
    thread.join(60)


def source_and_destination(caller: Caller, name: str, **destination: Any) -> tuple[str, str, str]:
    """A new source and destination of the caller's: the project's id and theirs."""
    source = ok(caller.post("/sources", json={"name": f"{name}-in"}))
    target = {"name": f"{name}-out", "url": "https://backfill.example/hooks", **destination}
    return source["team_id"], source["id"], ok(caller.post("/destinations", json=target))["id"]


def stored_requests(
    project: str, source_id: str, prefix: str, count: int, **values: Any
) -> list[dict[str, Any]]:
    """``count`` requests of the source received yesterday, before any connection."""
    return [
        request_row(
            project,
            f"req_{prefix}_{n:04d}",
            source_id,
            RECENT + timedelta(seconds=n),
            b'{"n": %d}' % n,
            **{"rejection_cause": "NO_CONNECTION", "events_count": 0, **values},
        )
        for n in range(count)
    ]


def stored_connection(
    settings: Settings, caller: Caller, name: str, count: int, **destination: Any
) -> str:
    """A connection made after ``count`` requests of its new source were stored: its id."""
    project, source_id, destination_id = source_and_destination(caller, name, **destination)
    insert(settings, "requests", stored_requests(project, source_id, name, count))
    body = {"source_id": source_id, "destination_id": destination_id}
    return str(ok(caller.post("/connections", json=body))["id"])


def batched(caller: Caller, job_id: str) -> dict[str, Any]:
    """The backfill once its first batch is done; nothing (to wait for) before."""
    job: dict[str, Any] = ok(caller.get(f"/bulk/backfill/{job_id}"))
    return job if job["processed_batch"] >= 1 else {}


def finished(caller: Caller, job_id: str) -> dict[str, Any]:
    """The backfill once it is over; nothing (to wait for) before."""
    job: dict[str, Any] = ok(caller.get(f"/bulk/backfill/{job_id}"))
    return {} if job["in_progress"] else job


def backfilled(settings: Settings, connection_id: str) -> list[dict[str, Any]]:
    return [
        d
        for d in topic_records(settings, topics.DELIVERIES)
        if d["connection_id"] == connection_id and d["trigger"] == "BACKFILL"
    ]


def test_stored_requests_reach_a_new_connection_once_with_trigger_backfill(
    tenants: Tenants, settings: Settings, sink: None
) -> None:
    a, b = tenants.a, tenants.b
    project, source_id, destination_id = source_and_destination(a, "orders")
    other = tenants.log.state.find("project", "", "project-b")
    assert other is not None
    rows = stored_requests(project, source_id, "bf", 6)
    rows[0]["rejection_cause"] = rows[1]["rejection_cause"] = ""  # routed to another then
    # Ingest refused this one (and recorded it without its body): it is not routed.
    refused = stored_requests(project, source_id, "bf_refused", 1)
    refused[0].update(rejection_cause="VERIFICATION_FAILED", body="", body_size=0)
    elsewhere = stored_requests(other["id"], source_id, "bf_other", 2)  # another project's
    insert(settings, "requests", rows + refused + elsewhere)
    connection = ok(
        a.post("/connections", json={"source_id": source_id, "destination_id": destination_id})
    )
    web = connection["id"]
    # One of them already reached the connection (as the router's first pass names it).
    live = derived_id("evt", "req_bf_0002", web)
    insert(
        settings,
        "events",
        [
            {
                "id": live,
                "project_id": project,
                "request_id": "req_bf_0002",
                "source_id": source_id,
                "connection_id": web,
                "destination_id": destination_id,
                "created_at": RECENT + timedelta(seconds=2),
                "status": "SUCCESSFUL",
                "attempts": 1,
                "version": 1,
            }
        ],
    )

    plan = ok(a.get(f"/connections/{web}/backfill/plan", params={"since": SINCE}))
    assert plan["estimated_count"] == 6 and plan["until"] == connection["created_at"]
    assert plan["stored_since"] is not None  # ClickHouse keeps 30 days by default
    job = ok(a.post(f"/connections/{web}/backfill", json={"since": SINCE}))
    assert (job["type"], job["webhook_id"], job["in_progress"]) == ("backfill", web, True)
    assert job["until"] == connection["created_at"] and job["estimated_count"] == 6
    done = wait_for(lambda: finished(a, job["id"]), 60)
    counts = (done["completed_count"], done["skipped_count"], done["failed_count"])
    assert counts == (5, 1, 0) and done["progress"] == 1.0 and done["completed_at"]

    sent = backfilled(settings, web)
    expected = [f"req_bf_{n:04d}" for n in (0, 1, 3, 4, 5)]
    assert sorted(d["request_id"] for d in sent) == expected
    # The ids, and creation times, of the router's first pass: the Idempotency-Key of a
    # delivery is the same however often it is routed.
    assert sorted(d["event_id"] for d in sent) == sorted(
        derived_id("evt", r, web) for r in expected
    )
    assert {d["created_at"] for d in sent} == {d["received_at"] for d in sent}
    assert {d["project_id"] for d in sent} == {project}

    # The events reached ClickHouse; a repeated backfill finds them and delivers nothing.
    wait_for(lambda: ok(a.get("/events", params={"webhook_id": web}))["count"] == 6, 60)
    again = ok(a.post(f"/connections/{web}/backfill", json={"since": SINCE}))
    done = wait_for(lambda: finished(a, again["id"]), 60)
    assert (done["completed_count"], done["skipped_count"], done["failed_count"]) == (0, 6, 0)
    assert len(backfilled(settings, web)) == 5
    assert {j["id"] for j in ok(a.get("/bulk/backfill"))["models"]} >= {job["id"], again["id"]}
    assert job["id"] not in {j["id"] for j in ok(b.get("/bulk/backfill"))["models"]}


def test_a_connection_created_with_a_backfill_gets_it_and_a_cancel_stops_one(
    tenants: Tenants, settings: Settings, sink: None
) -> None:
    a = tenants.a
    # 2 a second allowed: the backfill takes 1 a second, in batches of 5.
    project, source_id, destination_id = source_and_destination(
        a, "slow", rate_limit=2, rate_limit_period="second"
    )
    insert(settings, "requests", stored_requests(project, source_id, "slow", 40))
    body = {
        "name": "slow",
        "source_id": source_id,
        "destination_id": destination_id,
        "backfill": {"since": SINCE},
    }
    made = ok(a.put("/connections", json=body))  # upsert: created, with its backfill
    job = made["backfill"]
    assert job["webhook_id"] == made["id"] and job["per_second"] == 1.0
    assert job["estimated_count"] == 40
    cancelled = ok(a.post(f"/bulk/backfill/{job['id']}/cancel"))
    assert cancelled["in_progress"] is False and cancelled["cancelled_at"] is not None
    time.sleep(6)  # a batch's pace: a job not cancelled would have sent the next one
    stopped = ok(a.get(f"/bulk/backfill/{job['id']}"))
    assert stopped["processed_batch"] <= 1 and stopped["completed_at"] is None
    sent = backfilled(settings, made["id"])
    assert len(sent) == stopped["completed_count"] <= 5
    done = stopped["completed_count"] + stopped["skipped_count"] + stopped["failed_count"]
    assert done == len(sent) and stopped["progress"] == done / 40


def test_a_backfill_resumes_after_an_api_restart_without_a_request_twice(
    settings: Settings, sink: None
) -> None:
    with running_api(settings) as first:
        a = first.a
        web = stored_connection(
            settings, a, "resumed", 12, rate_limit=2, rate_limit_period="second"
        )
        job = ok(a.post(f"/connections/{web}/backfill", json={"since": SINCE}))
        assert wait_for(lambda: batched(a, job["id"]))["in_progress"] is True
    # That API is gone with its backfill in progress; the next one to start carries on.
    with running_api(settings) as second:
        done = wait_for(lambda: finished(second.a, job["id"]), 90)
    assert done["completed_count"] + done["skipped_count"] == 12 and done["failed_count"] == 0
    sent = backfilled(settings, web)
    assert sorted({d["request_id"] for d in sent}) == [f"req_resumed_{n:04d}" for n in range(12)]
    # A batch routed again (if the restart caught one) has the same ids: one event each.
    assert len({d["event_id"] for d in sent}) == 12
