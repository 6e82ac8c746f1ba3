"""A repeated backfill while ClickHouse lags: no sink runs in this module, so the events
and ignored events a backfill makes never reach ClickHouse, and the next backfill of
the connection has only what the earlier ones recorded in the configuration log."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from hookhouse.common.settings import Settings
from tests.api_client import ok, running_api
from tests.e2e.running import wait_for
from tests.integration.test_api import insert
from tests.integration.test_backfill import (
    SINCE,
    backfilled,
    finished,
    source_and_destination,
    stored_requests,
)

pytestmark = pytest.mark.integration

STORED = 450


def test_a_repeated_backfill_delivers_nothing_twice_without_the_sink(settings: Settings) -> None:
    fast = settings.model_copy(update={"backfill_per_second": 1000})  # batches of 100
    with running_api(fast) as api:
        a = api.a
        project, source_id, destination_id = source_and_destination(a, "twice")
        insert(settings, "requests", stored_requests(project, source_id, "twice", STORED))
        web = ok(
            a.post("/connections", json={"source_id": source_id, "destination_id": destination_id})
        )["id"]

        first = ok(a.post(f"/connections/{web}/backfill", json={"since": SINCE}))
        done = wait_for(lambda: finished(a, first["id"]), 60)
        assert (done["completed_count"], done["skipped_count"], done["failed_count"]) == (
            STORED,
            0,
            0,
        )
        again = ok(a.post(f"/connections/{web}/backfill", json={"since": SINCE}))
        done = wait_for(lambda: finished(a, again["id"]), 60)
        # Every request lies in the range the first one covered: skipped, none delivered.
        assert (done["completed_count"], done["skipped_count"], done["failed_count"]) == (
            0,
            STORED,
            0,
        )
        assert done["progress"] == 1.0 and done["completed_at"]

    sent = Counter(d["request_id"] for d in backfilled(settings, web))
    assert len(sent) == STORED and set(sent.values()) == {1}


def test_after_a_cancelled_backfill_the_next_delivers_only_the_rest(settings: Settings) -> None:
    with running_api(settings) as api:
        a = api.a
        # 2 a second allowed: a backfill takes 1 a second, in batches of 5.
        project, source_id, destination_id = source_and_destination(
            a, "cancelled", rate_limit=2, rate_limit_period="second"
        )
        insert(settings, "requests", stored_requests(project, source_id, "cancelled", 12))
        web = ok(
            a.post("/connections", json={"source_id": source_id, "destination_id": destination_id})
        )["id"]
        first = ok(a.post(f"/connections/{web}/backfill", json={"since": SINCE}))

        def batched() -> dict[str, Any]:
            current: dict[str, Any] = ok(a.get(f"/bulk/backfill/{first['id']}"))
            return current if current["processed_batch"] >= 1 else {}

        wait_for(batched, 30)  # then it waits five seconds for its pace: cancel it there
        stopped = ok(a.post(f"/bulk/backfill/{first['id']}/cancel"))
        assert stopped["completed_count"] == 5 and stopped["in_progress"] is False

        again = ok(a.post(f"/connections/{web}/backfill", json={"since": SINCE}))
        done = wait_for(lambda: finished(a, again["id"]), 60)
        assert (done["completed_count"], done["skipped_count"], done["failed_count"]) == (7, 5, 0)

    sent = Counter(d["request_id"] for d in backfilled(settings, web))
    assert sorted(sent) == [f"req_cancelled_{n:04d}" for n in range(12)]
    assert set(sent.values()) == {1}
