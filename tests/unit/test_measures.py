"""Which attempt metrics read the hourly rollup (migration 0007) and which only the rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from starlette.datastructures import QueryParams

from hookhouse.api import measures

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)


def sql_of(params: list[tuple[str, str]]) -> str:
    return measures.aggregation("attempts", "prj_1", QueryParams(params), NOW)[0]


@pytest.mark.parametrize(
    "params",
    [
        [("granularity", "1h")],
        [("granularity", "1d"), ("date_range[gte]", "2026-11-13T12:30:00Z")],
        [("granularity", "2h"), ("status", "FAILED"), ("destination_id", "des_1")],
        [("granularity", "1h"), ("response_status[gte]", "500"), ("trigger", "MANUAL")],
    ],
)
def test_whole_hours_of_key_filters_read_the_rollup(params: list[tuple[str, str]]) -> None:
    text = sql_of(params)
    assert "FROM attempts_hourly" in text and "FROM attempts FINAL" in text


@pytest.mark.parametrize(
    "params",
    [
        [("granularity", "5m")],  # buckets finer than the rollup's hours
        [("granularity", "90m")],
        [("granularity", "1h"), ("event_id", "evt_1")],  # not a column of the rollup
        [("granularity", "1h"), ("created_at[gte]", "2026-11-20T00:00:00Z")],
        # no whole hour inside the range
        [("date_range[gte]", "2026-11-20T10:10:00Z"), ("date_range[lte]", "2026-11-20T10:50:00Z")],
    ],
)
def test_other_calls_read_only_the_attempts(params: list[tuple[str, str]]) -> None:
    assert "attempts_hourly" not in sql_of(params)


def test_events_and_requests_never_read_the_rollup() -> None:
    for kind in ("events", "requests"):
        text = measures.aggregation(kind, "prj_1", QueryParams([("granularity", "1d")]), NOW)[0]
        assert "attempts_hourly" not in text
