"""A bulk retry's query: the list's filters, checked, as SQL for one project."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from hookhouse.api import queries
from hookhouse.api.bulk import BATCH, KIND, BulkRetries, Params, checked_query
from hookhouse.api.fields import ApiError
from hookhouse.api.resources import Resources
from hookhouse.common.domain.config import ConfigState

EVENTS, REQUESTS, IGNORED = (queries.TABLES[t] for t in ("events", "requests", "ignored_events"))


def test_json_values_become_the_same_sql_as_query_strings() -> None:
    """Found by schemathesis: a number in a query reached the SQL builder as an int."""
    query = checked_query(
        EVENTS, {"attempts": 0, "status": ["FAILED", "QUEUED"], "response_status[gte]": 500}
    )
    sql = queries.conditions(EVENTS, "tm_a", Params(query))
    assert sql.where[0].startswith("project_id = ")
    values = list(sql.parameters.values())
    assert values[:2] == ["tm_a", ["FAILED", "QUEUED"]] and sorted(values[2:]) == [0, 500]


@pytest.mark.parametrize(
    "query",
    [
        {"colour": "red"},
        {"order_by": "created_at"},  # a list parameter, not a filter
        {"status": {"in": ["FAILED"]}},
        {"attempts": 1.5},
        "status=FAILED",
    ],
)
def test_anything_but_event_filters_is_refused_not_ignored(query: object) -> None:
    with pytest.raises(ApiError) as refused:
        checked_query(EVENTS, query)
    assert refused.value.status == 422


def test_each_type_takes_its_own_list_s_filters() -> None:
    assert checked_query(REQUESTS, {"status": "rejected", "search_term": "order"})
    assert checked_query(IGNORED, {"cause": "FILTERED", "webhook_id": "web_1"})
    for table, query in ((IGNORED, {"status": "FAILED"}), (EVENTS, {"rejection_cause": "x"})):
        with pytest.raises(ApiError):
            checked_query(table, query)


def test_every_project_is_fenced_even_with_no_filter() -> None:
    sql = queries.conditions(EVENTS, "tm_b", Params(checked_query(EVENTS, None)))
    assert sql.where == ["project_id = {p0:String}"] and sql.parameters == {"p0": "tm_b"}


class SlowLog:
    """Resources over a configuration log whose writes are applied a moment after they
    are asked for, as the real log's are once read back; whole resources, last wins."""

    def __init__(self, job: dict[str, Any]) -> None:
        self.state = ConfigState()
        self.state.resources[KIND][job["id"]] = job

    def owned(self, kind: str, project_id: str, resource_id: str) -> dict[str, Any]:
        found = self.state.get(kind, resource_id)
        assert found is not None and found["project_id"] == project_id
        return found

    async def update(
        self, kind: str, resource: dict[str, Any], changes: dict[str, Any]
    ) -> dict[str, Any]:
        changed = {**resource, **changes}
        await asyncio.sleep(0.05)  # the round trip through the log
        self.state.resources[kind][changed["id"]] = changed
        return changed


def test_a_cancel_is_not_undone_by_the_batch_written_meanwhile() -> None:
    """Found by CI: a batch read the job while a cancel was being written, then wrote
    the job back with ``in_progress`` still set, and the cancelled job went on."""
    job = {
        "id": "bch_1",
        "project_id": "tm_a",
        "type": "events",
        "query": {},
        "bounded": {},
        "processed_batch": 0,
        "completed_count": 0,
        "failed_count": 0,
        "in_progress": True,
        "cursor": None,
    }
    log = SlowLog(job)
    rows = [{"id": f"evt_{n}", "created_at": "2026-12-07 00:00:00.000"} for n in range(2 * BATCH)]

    async def requeue(
        project_id: str, batch: list[dict[str, Any]], trigger: str
    ) -> list[BaseException | None]:
        return [None for _ in batch]

    async def both() -> bool:
        jobs = BulkRetries(
            cast(Resources, log),
            lambda sql, parameters: rows,
            {"events": requeue},
            lambda row: (row["created_at"], row["id"]),
        )
        job["owner"] = jobs.replica
        cancelled = asyncio.create_task(jobs.cancel("tm_a", "bch_1"))
        await asyncio.sleep(0)  # the cancel's write is under way
        more = await jobs.step("bch_1")
        await cancelled
        return more

    assert asyncio.run(both()) is False
    final = log.state.get(KIND, "bch_1")
    assert final is not None and final["in_progress"] is False and "cancelled_at" in final
