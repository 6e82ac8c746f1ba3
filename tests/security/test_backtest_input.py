"""What an attacker sends to ``POST /connections/backtest``: another project's ids,
filters at and past the depth limit, text that would be SQL, code that loops or
allocates forever, malformed times and sizes past the limits.  Each gets a clear error
or a bounded answer, and the API keeps answering."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from hookhouse.api import backtest
from hookhouse.api.store import Store
from hookhouse.common.domain.filters import MAX_DEPTH
from hookhouse.common.settings import Settings
from tests.api_client import Tenants, ok, refused
from tests.integration.test_api import at, connected, insert, project_of, request_row

pytestmark = pytest.mark.integration
RANGE = {"since": at(-10).isoformat(), "until": at(100).isoformat()}


def source_with(tenants: Tenants, settings: Settings, name: str, bodies: list[Any]) -> str:
    source: str = connected(tenants.a, name, "https://example.com/in")["source"]["id"]
    project = project_of(tenants, "project-a")
    rows = [
        request_row(project, f"req_{name}_{n}", source, at(n), orjson.dumps(body))
        for n, body in enumerate(bodies)
    ]
    insert(settings, "requests", rows)
    return source


def test_another_project_s_source_connection_and_transformation_do_not_exist(
    tenants: Tenants,
) -> None:
    theirs = connected(tenants.b, "bt-theirs", "https://example.com/in")
    code = {"name": "bt-t", "code": "addHandler('transform', (r) => r)"}
    their_code = ok(tenants.b.post("/transformations", json=code))["id"]
    mine = connected(tenants.a, "bt-mine", "https://example.com/in")["source"]["id"]
    for body in (
        {"source_id": theirs["source"]["id"]},
        {"connection_id": theirs["id"]},
    ):
        answer = tenants.a.post("/connections/backtest", json=body)
        assert answer.status_code == 404, answer.text
        assert answer.json()["code"] == "NOT_FOUND"
    rules = [{"type": "transform", "transformation_id": their_code}]
    answer = tenants.a.post("/connections/backtest", json={"source_id": mine, "rules": rules})
    assert "no transformation with id" in refused(answer, 422, "UNPROCESSABLE_ENTITY")


@pytest.fixture(scope="module")
def mine(tenants: Tenants) -> str:
    source: str = connected(tenants.a, "bt-checks", "https://example.com/in")["source"]["id"]
    return source


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"since": "yesterday"}, "'since' must be an ISO 8601 time"),
        ({"until": "9999-01-01T00:00:00Z"}, "from 1900 to 2299"),
        ({"since": at(10).isoformat(), "until": at(0).isoformat()}, "must not be after"),
        ({"sample_size": 1001}, "sample_size"),
        ({"sample_size": 0}, "sample_size"),
        ({"sample_size": "10"}, "sample_size"),
        ({"rules": "all"}, "rules"),
        ({"rules": [{"type": "filter", "body": {"$nope": 1}}]}, "$nope"),
        ({"rules": [{"type": "transform", "transformation": {"name": "x"}}]}, "code"),
        ({"source_id": None}, "'source_id' or a 'connection_id'"),
    ],
)
def test_malformed_backtests_are_refused_by_name(
    tenants: Tenants, mine: str, body: dict[str, Any], named: str
) -> None:
    answer = tenants.a.post("/connections/backtest", json={"source_id": mine, **body})
    assert named in refused(answer, 422, "UNPROCESSABLE_ENTITY")


def nested(levels: int, inner: Any) -> Any:
    value = inner
    for _ in range(levels):
        value = {"a": value}
    return value


def test_filters_at_the_depth_limit_run_in_clickhouse_and_past_it_are_refused(
    tenants: Tenants, settings: Settings
) -> None:
    deep_body = nested(40, 1)
    source = source_with(tenants, settings, "bt-deep", [deep_body, {"a": 1}])
    deepest = {"type": "filter", "body": nested(MAX_DEPTH - 2, {"$in": [1, 2]})}
    body = {"source_id": source, "rules": [deepest], **RANGE}
    answer = ok(tenants.a.post("/connections/backtest", json=body))
    assert answer["requests_count"] == 2
    assert answer["complete"] is True
    past = {"type": "filter", "body": nested(MAX_DEPTH + 1, 1)}
    answer = tenants.a.post("/connections/backtest", json={"source_id": source, "rules": [past]})
    assert "deeper than" in refused(answer, 422, "UNPROCESSABLE_ENTITY")


def test_text_that_would_be_sql_is_only_data(tenants: Tenants, settings: Settings) -> None:
    hostile = "') OR 1=1 --{f0:String}\\'\"\t\n"
    source = source_with(tenants, settings, "bt-sql", [{hostile: hostile}, {"a": "b"}])
    for spec in ({hostile: hostile}, {hostile: {"$startsWith": hostile}}, {"a": {"$in": hostile}}):
        rules = [{"type": "filter", "body": spec}]
        body = {"source_id": source, "rules": rules, **RANGE}
        answer = ok(tenants.a.post("/connections/backtest", json=body))
        assert answer["requests_count"] == 2
    assert answer["events_count"] == 0


def test_code_that_loops_or_allocates_forever_is_bounded(
    tenants: Tenants, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backtest, "TRANSFORM_SECONDS", 2.0)
    source = source_with(tenants, settings, "bt-loop", [{"n": n} for n in range(20)])
    for code in (
        "addHandler('transform', (r) => { while (true) {} })",
        "addHandler('transform', (r) => { const a = []; for (;;) a.push('x'.repeat(1e6)); })",
        "addHandler('transform', (r) => { const f = () => Promise.resolve().then(f); f(); })",
    ):
        rules = [{"type": "transform", "transformation": {"name": "evil", "code": code}}]
        body = {"source_id": source, "rules": rules, "sample_size": 20, **RANGE}
        answer = ok(tenants.a.post("/connections/backtest", json=body))
        assert answer["events_count"] == 0
        assert answer["transformation_failed_count"] == answer["sample"]["size"] >= 1
        assert answer["complete"] is False or answer["sample"]["size"] == 20
        assert answer["errors"], answer
    # and the API still answers the other project at once
    assert tenants.b.get("/sources").status_code == 200


@pytest.mark.parametrize(
    "spec",
    [
        {"a": {"$in": [f"kind-{n}" for n in range(2000)] + ["b"]}},
        {"$or": [{"type": f"kind-{n}"} for n in range(300)] + [{"a": "b"}]},
        {**{f"key-{n}": {"$exist": False} for n in range(300)}, "a": "b"},
    ],
    ids=["in-2000", "or-300", "keys-300"],
)
def test_wide_filters_the_router_accepts_are_backtested(
    tenants: Tenants, settings: Settings, spec: dict[str, Any]
) -> None:
    """Past the parameters ClickHouse takes one by one, literals travel in arrays."""
    source = source_with(tenants, settings, f"bt-wide-{len(str(spec))}", [{"a": "b"}, {"a": 1}])
    body = {"source_id": source, "rules": [{"type": "filter", "body": spec}], **RANGE}
    answer = ok(tenants.a.post("/connections/backtest", json=body))
    assert (answer["events_count"], answer["filtered_count"]) == (1, 1)
    assert answer["complete"] is True


def test_a_backtest_reads_only_the_bodies_it_uses(
    tenants: Tenants, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sample of one reads one stored body, not the thousands ahead of it; undecided
    requests are read within a byte budget."""
    big = {"pad": "x" * 10_000}
    source = source_with(tenants, settings, "bt-reads", [{**big, "n": n} for n in range(300)])
    wide = {"since": at(-10).isoformat(), "until": at(400).isoformat()}
    fetched: list[int] = []
    store = Store.rows_by_id

    async def counted(self: Any, table: str, project_id: str, ids: list[str]) -> Any:
        fetched.append(len(ids))
        return await store(self, table, project_id, ids)

    monkeypatch.setattr(Store, "rows_by_id", counted)
    code = "addHandler('transform', (r) => r)"
    rules = [{"type": "transform", "transformation": {"name": "t", "code": code}}]
    body = {"source_id": source, "rules": rules, "sample_size": 1, **wide}
    answer = ok(tenants.a.post("/connections/backtest", json=body))
    assert answer["sample"]["size"] == 1
    assert fetched == [1]

    fetched.clear()
    monkeypatch.setattr(backtest, "BODY_BYTES", 50 * 14_000)  # room for about 50 of them
    ref = [{"type": "filter", "body": {"n": {"$ref": "n"}}}]  # only Python decides $ref
    answer = ok(
        tenants.a.post("/connections/backtest", json={"source_id": source, "rules": ref, **wide})
    )
    assert sum(fetched) == answer["filters"]["decided_in_python_count"] < 60
    assert answer["filters"]["undecided_count"] == 300 - sum(fetched), answer
    assert answer["complete"] is False
