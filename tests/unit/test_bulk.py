"""A bulk retry's query: the list's filters, checked, as SQL for one project."""

from __future__ import annotations

import pytest

from hookhouse.api import queries
from hookhouse.api.bulk import Params, checked_query
from hookhouse.api.fields import ApiError

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
