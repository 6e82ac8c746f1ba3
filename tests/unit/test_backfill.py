"""A backfill's pure parts: its window, its pace, its deduplication, its shape."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookhouse.api import backfill as api_backfill
from hookhouse.common.domain import backfill
from hookhouse.common.domain.backfill import Covered, InvalidWindow, Window
from hookhouse.common.domain.times import iso_ms

NOW = 1_795_440_000_000  # 2026-11-22T…Z
HOUR = 3_600_000


def test_a_window_is_since_to_until_or_now() -> None:
    asked = backfill.window("2026-11-22T10:00:00Z", None, NOW)
    assert asked == Window(backfill.parse_time("since", "2026-11-22T10:00:00Z"), NOW)
    both = backfill.window("2026-11-21T10:00:00+02:00", "2026-11-21T09:00:00Z", NOW)
    assert iso_ms(both.since_ms) == "2026-11-21T08:00:00.000Z"  # its zone counts
    assert backfill.window("2026-11-21T10:00:00", None, NOW).since.endswith("10:00:00.000Z")


@pytest.mark.parametrize(
    ("since", "until", "named"),
    [
        (None, None, "'since' is required"),
        ("yesterday", None, "'since' must be an ISO 8601 time"),
        (1_700_000_000, None, "'since' must be an ISO 8601 time"),
        ("2026-11-22T10:00:00Z" + "0" * 10_000, None, "'since' must be an ISO 8601 time"),
        ("1899-12-31T23:59:59Z", None, "'since' must be a time after 1900"),
        ("0001-01-01T00:00:00+14:00", None, "'since' must be a time after 1900"),
        ("2026-11-22T10:00:00Z", "soon", "'until' must be an ISO 8601 time"),
        ("2999-01-01T00:00:00Z", None, "'since' is in the future"),
        ("2026-11-20T00:00:00Z", "2999-01-01T00:00:00Z", "'until' is in the future"),
        ("2026-11-21T00:00:00Z", "2026-11-20T00:00:00Z", "'since' is after 'until'"),
    ],
)
def test_a_window_that_is_not_one_is_refused_by_name(since: Any, until: Any, named: str) -> None:
    with pytest.raises(InvalidWindow, match=named):
        backfill.window(since, until, NOW)


@given(st.text(max_size=60))
def test_any_text_is_a_window_or_a_refusal(text: str) -> None:
    try:
        asked = backfill.window(text, None, NOW)
    except InvalidWindow:
        return
    assert backfill.EARLIEST_MS <= asked.since_ms <= asked.until_ms == NOW


def test_a_connection_is_backfilled_up_to_its_creation_only() -> None:
    asked = Window(NOW - 10 * HOUR, NOW)
    assert backfill.for_connection(asked, NOW - HOUR) == Window(NOW - 10 * HOUR, NOW - HOUR)
    assert backfill.for_connection(asked, NOW + HOUR) == asked
    # Created before the window began: nothing to backfill (an empty window).
    empty = backfill.for_connection(asked, NOW - 20 * HOUR)
    assert empty.since_ms == empty.until_ms == NOW - 20 * HOUR


def test_the_horizon_is_clickhouse_s_retention() -> None:
    assert backfill.horizon_ms(NOW, 30) == NOW - 30 * 24 * HOUR
    assert backfill.horizon_ms(NOW, 0) is None  # kept forever


@pytest.mark.parametrize(
    ("limit", "period", "expected"),
    [
        (None, None, 20.0),  # no limit: the setting
        (10, "second", 5.0),  # half of the destination's limit
        (600, "minute", 5.0),
        (3600, "hour", 0.5),
        (1000, "second", 20.0),  # never above the setting
        (5, "concurrent", 20.0),  # not a rate
    ],
)
def test_the_pace_is_a_share_of_the_destination_s_limit(
    limit: int | None, period: str | None, expected: float
) -> None:
    assert backfill.per_second(limit, period, 20.0) == pytest.approx(expected)


def test_batches_hold_what_the_pace_allows_in_a_few_seconds() -> None:
    assert backfill.batch_size(20.0) == backfill.BATCH_MAX
    assert backfill.batch_size(2.0) == 10
    assert backfill.batch_size(1 / 120) == 1  # one a batch, however slow


@given(
    st.integers(min_value=0, max_value=backfill.BATCH_MAX),
    st.floats(min_value=0.001, max_value=10_000),
)
def test_the_next_batch_waits_for_what_this_one_sent(delivered: int, rate: float) -> None:
    started = NOW
    after = backfill.next_batch_at(started, delivered, rate)
    assert after >= started
    # Over the batches, never more than the rate (within a millisecond's rounding).
    assert delivered <= rate * (after - started) / 1000 + 1e-6


def test_a_covered_range_runs_from_since_through_the_last_request_read_but_its_failures() -> None:
    went = Covered(NOW - HOUR, (NOW, "req_m"), frozenset({"req_failed"}))
    assert went.holds((NOW - HOUR, "req_a")) and went.holds((NOW - 1, "req_z"))
    assert went.holds((NOW, "req_a")) and went.holds((NOW, "req_m"))
    # Received in the same millisecond, but after it in the seek order: not read yet.
    assert not went.holds((NOW, "req_n"))
    assert not went.holds((NOW + 1, "req_a"))
    assert not went.holds((NOW - HOUR - 1, "req_z"))  # before its window
    assert not went.holds((NOW - 5, "req_failed"))  # not queued: a later one routes it
    later = Covered(NOW - 10 * HOUR, (NOW - 9 * HOUR, "req_a"), frozenset())
    assert backfill.covered((NOW - 9 * HOUR, "req_a"), [went, later])
    assert backfill.covered((NOW - 5, "req_b"), [went, later])
    assert not backfill.covered((NOW - 5, "req_failed"), [went, later])
    assert not backfill.covered((NOW - 5, "req_b"), [])


def test_a_covered_range_grows_batch_by_batch_until_its_failures_do_not_fit() -> None:
    assert backfill.covered_after(None, [], None, []) == (None, [])  # nothing read
    first = backfill.covered_after(None, [], (NOW, "req_5"), ["req_2"])
    assert first == ((NOW, "req_5"), ["req_2"])
    assert backfill.covered_after(*first, None, []) == first  # an empty batch
    most = [f"req_{n}" for n in range(backfill.FAILED_IDS_MAX - 1)]
    full = backfill.covered_after((NOW, "req_5"), most, (NOW + 1, "req_9"), ["req_x"])
    assert full == ((NOW + 1, "req_9"), [*most, "req_x"])
    # One more would not fit: the range stays, what comes after relies on ClickHouse.
    assert backfill.covered_after(*full, (NOW + 2, "req_z"), ["req_y"]) == full
    assert backfill.covered_after(*full, (NOW + 2, "req_z"), []) == ((NOW + 2, "req_z"), full[1])


def job(**values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "bch_1",
        "project_id": "tm_1",
        "type": "backfill",
        "connection_id": "web_1",
        "query": {"webhook_id": "web_1", "since": "2026-11-20T00:00:00.000Z"},
        "since": "2026-11-20T00:00:00.000Z",
        "until": "2026-11-21T00:00:00.000Z",
        "stored_since": None,
        "per_second": 20.0,
        "estimated_count": 10,
        "processed_batch": 1,
        "completed_count": 4,
        "failed_count": 1,
        "skipped_count": 3,
        "in_progress": True,
        "updated_at": "2026-11-22T00:00:00.000Z",
        "created_at": "2026-11-22T00:00:00.000Z",
    }
    return {**base, **values}


def test_a_backfill_shows_as_a_bulk_job_whose_counts_add_up() -> None:
    shown = api_backfill.shape(job())
    assert shown["type"] == "backfill" and shown["webhook_id"] == "web_1"
    assert (shown["since"], shown["until"]) == (
        "2026-11-20T00:00:00.000Z",
        "2026-11-21T00:00:00.000Z",
    )
    assert shown["progress"] == pytest.approx(0.8)  # skipped ones are done too
    assert api_backfill.shape(job(skipped_count=5))["progress"] == 1.0
    assert api_backfill.shape(job(estimated_count=0))["progress"] == 1.0
    assert shown["stopped_reason"] is None and shown["team_id"] == "tm_1"
    # Batches as the pace makes them: 100 at 20 a second, 5 at 1 a second.
    assert shown["estimated_batch"] == 1
    assert api_backfill.shape(job(per_second=1.0))["estimated_batch"] == 2
