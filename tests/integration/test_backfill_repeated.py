"""A repeated backfill while ClickHouse lags: no sink runs in this module, so the events
and ignored events a backfill makes never reach ClickHouse, and the next backfill of
the connection has only what the earlier ones recorded in the configuration log."""

from __future__ import annotations

from collections import Counter

import pytest

from hookhouse.common.settings import Settings
from tests.api_client import ok, running_api
from tests.e2e.running import wait_for
from tests.integration.test_backfill import SINCE, backfilled, batched, finished, stored_connection

pytestmark = pytest.mark.integration

STORED = 450


def test_a_repeated_backfill_delivers_nothing_twice_without_the_sink(settings: Settings) -> None:
    fast = settings.model_copy(update={"backfill_per_second": 1000})  # batches of 100
    with running_api(fast) as api:
        a = api.a
        web = stored_connection(settings, a, "twice", STORED)

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
        web = stored_connection(
            settings, a, "cancelled", 12, rate_limit=2, rate_limit_period="second"
        )
        first = ok(a.post(f"/connections/{web}/backfill", json={"since": SINCE}))
        # After its first batch it waits five seconds for its pace: cancel it there.
        wait_for(lambda: batched(a, first["id"]), 30)
        stopped = ok(a.post(f"/bulk/backfill/{first['id']}/cancel"))
        assert stopped["completed_count"] == 5 and stopped["in_progress"] is False

        again = ok(a.post(f"/connections/{web}/backfill", json={"since": SINCE}))
        done = wait_for(lambda: finished(a, again["id"]), 60)
        assert (done["completed_count"], done["skipped_count"], done["failed_count"]) == (7, 5, 0)

    sent = Counter(d["request_id"] for d in backfilled(settings, web))
    assert sorted(sent) == [f"req_cancelled_{n:04d}" for n in range(12)]
    assert set(sent.values()) == {1}
