"""What a caller can send a backfill: another project's connections and jobs do not
exist for it, every malformed or oversized window is a named 422 (never a 500), a
second backfill of a connection waits for the first (409), and a backfill over many
requests goes in bounded batches while the API keeps answering."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hookhouse.common.settings import Settings
from tests.api_client import Caller, Tenants, ok, refused
from tests.e2e.running import wait_for
from tests.integration.test_api import RECENT, insert, request_row

pytestmark = pytest.mark.integration

SINCE = (RECENT - timedelta(hours=1)).isoformat().replace("+00:00", "Z")


def connection(caller: Caller, name: str, **destination: Any) -> dict[str, Any]:
    body = {
        "name": name,
        "source": {"name": f"{name}-in"},
        "destination": {"name": f"{name}-out", "url": "https://b.example", **destination},
    }
    made: dict[str, Any] = ok(caller.post("/connections", json=body))
    return made


def stored(settings: Settings, made: dict[str, Any], count: int) -> None:
    project, source_id = made["team_id"], made["source"]["id"]
    insert(
        settings,
        "requests",
        [
            request_row(
                project, f"req_{source_id}_{n}", source_id, RECENT + timedelta(seconds=n), b"{}"
            )
            for n in range(count)
        ],
    )


def test_another_project_s_connections_and_backfills_do_not_exist(
    tenants: Tenants, settings: Settings
) -> None:
    a, b = tenants.a, tenants.b
    mine = connection(a, "private", rate_limit=1, rate_limit_period="hour")
    stored(settings, mine, 3)
    job = ok(a.post(f"/connections/{mine['id']}/backfill", json={"since": SINCE}))
    theirs = f"/connections/{mine['id']}/backfill"
    refused(b.post(theirs, json={"since": SINCE}), 404, "NOT_FOUND")
    refused(b.get(f"{theirs}/plan", params={"since": SINCE}), 404, "NOT_FOUND")
    refused(b.get(f"/bulk/backfill/{job['id']}"), 404, "NOT_FOUND")
    refused(b.post(f"/bulk/backfill/{job['id']}/cancel"), 404, "NOT_FOUND")
    assert ok(b.get("/bulk/backfill"))["count"] == 0
    refused(a.post("/connections/web_nope/backfill", json={"since": SINCE}), 404, "NOT_FOUND")
    # A backfill is not a bulk retry of events, nor a bulk retry a backfill.
    refused(a.get(f"/bulk/events/retry/{job['id']}"), 404, "NOT_FOUND")
    retry = ok(a.post("/bulk/events/retry", json={"query": {"webhook_id": mine["id"]}}))
    refused(a.get(f"/bulk/backfill/{retry['id']}"), 404, "NOT_FOUND")
    assert ok(a.get(f"/bulk/backfill/{job['id']}"))["webhook_id"] == mine["id"]
    ok(a.post(f"/bulk/backfill/{job['id']}/cancel"))


FUTURE = (datetime.now(UTC) + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({}, "since"),
        ({"since": None}, "since"),
        ({"since": 1_700_000_000}, "since"),
        ({"since": ["2024-03-01T00:00:00Z"]}, "since"),
        ({"since": "last tuesday"}, "since"),
        ({"since": "2024-03-01T00:00:00Z" + " " * 100_000}, "since"),
        ({"since": "9" * 100_000}, "since"),
        ({"since": "0001-01-01T00:00:00Z"}, "1900"),
        ({"since": FUTURE}, "future"),
        ({"since": SINCE, "until": FUTURE}, "future"),
        ({"since": SINCE, "until": "2000-01-01T00:00:00Z"}, "after 'until'"),
        ({"since": SINCE, "until": {"$gt": 1}}, "until"),
    ],
)
def test_a_window_that_is_not_one_is_a_named_422(
    tenants: Tenants, body: dict[str, Any], named: str
) -> None:
    made = connection(tenants.a, f"windows-{abs(hash(repr(body))) % 10**8}")
    path = f"/connections/{made['id']}/backfill"
    assert named in refused(tenants.a.post(path, json=body), 422, "UNPROCESSABLE_ENTITY")
    as_params = {k: v for k, v in body.items() if isinstance(v, str) and len(v) < 1000}
    if as_params != body or not as_params:  # not a query parameter (or not one a URL takes)
        return
    assert named in refused(
        tenants.a.get(f"{path}/plan", params=as_params), 422, "UNPROCESSABLE_ENTITY"
    )


def test_a_connection_body_s_backfill_is_checked_before_the_connection_is_written(
    tenants: Tenants,
) -> None:
    a = tenants.a
    body = {
        "name": "checked-first",
        "source": {"name": "checked-first-in"},
        "destination": {"name": "checked-first-out", "url": "https://b.example"},
    }
    for backfill in ({"since": "soon"}, {"since": FUTURE}, {"until": SINCE}, "yesterday"):
        refused(
            a.post("/connections", json={**body, "backfill": backfill}), 422, "UNPROCESSABLE_ENTITY"
        )
        refused(
            a.put("/connections", json={**body, "backfill": backfill}), 422, "UNPROCESSABLE_ENTITY"
        )
    assert ok(a.get("/connections", params={"name": "checked-first"}))["count"] == 0
    refused(
        a.post("/connections/x/backfill", content=b"{" + b" " * (2 * 1024 * 1024)),
        413,
        "PAYLOAD_TOO_LARGE",
    )


def test_one_backfill_of_a_connection_at_a_time_and_none_of_a_disabled_one(
    tenants: Tenants, settings: Settings
) -> None:
    a = tenants.a
    made = connection(a, "once", rate_limit=1, rate_limit_period="hour")
    stored(settings, made, 3)
    path = f"/connections/{made['id']}/backfill"
    first = ok(a.post(path, json={"since": SINCE}))
    message = refused(a.post(path, json={"since": SINCE}), 409, "BACKFILL_IN_PROGRESS")
    assert first["id"] in message
    # Nor through the connection's upsert, which then changes nothing.
    upsert = {
        "name": "once",
        "source_id": made["source"]["id"],
        "destination_id": made["destination"]["id"],
        "description": "changed",
        "backfill": {"since": SINCE},
    }
    refused(a.put("/connections", json=upsert), 409, "BACKFILL_IN_PROGRESS")
    assert ok(a.get(f"/connections/{made['id']}"))["description"] is None
    ok(a.post(f"/bulk/backfill/{first['id']}/cancel"))
    second = ok(a.post(path, json={"since": SINCE}))
    assert second["id"] != first["id"]
    ok(a.post(f"/bulk/backfill/{second['id']}/cancel"))
    ok(a.put(f"/connections/{made['id']}/disable"))
    refused(a.post(path, json={"since": SINCE}), 422, "CONNECTION_DISABLED")


def test_a_backfill_of_many_requests_goes_in_bounded_batches_beside_other_answers(
    tenants: Tenants, settings: Settings
) -> None:
    a = tenants.a
    made = connection(a, "many")
    stored(settings, made, 2_000)
    job = ok(a.post(f"/connections/{made['id']}/backfill", json={"since": SINCE}))
    assert job["estimated_count"] == 2_000 and job["estimated_batch"] == 20
    slowest = 0.0
    for _ in range(20):  # while its batches are routed
        started = time.monotonic()
        ok(a.get("/sources"))
        slowest = max(slowest, time.monotonic() - started)
    assert slowest < 2.0

    # 100 at a time, paced at 20 a second: a batch every 5 seconds.
    def batched() -> dict[str, Any]:
        current: dict[str, Any] = ok(a.get(f"/bulk/backfill/{job['id']}"))
        return current if current["processed_batch"] >= 1 else {}

    running = wait_for(batched)
    assert running["in_progress"] is True
    assert running["completed_count"] <= 100 * running["processed_batch"] < 2_000
    ok(a.post(f"/bulk/backfill/{job['id']}/cancel"))
