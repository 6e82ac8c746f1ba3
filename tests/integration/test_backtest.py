"""Backtests over the real ClickHouse: the filter compiled to SQL agrees with the
router's own filter code, and ``POST /connections/backtest`` counts what rules not yet
saved would have done to a source's stored requests."""

from __future__ import annotations

import base64
import random
from typing import Any

import orjson
import pytest

from hookhouse.api import filter_sql
from hookhouse.common import clickhouse
from hookhouse.common.domain.filters import InvalidFilter, compile_filter
from hookhouse.common.domain.message import Message
from hookhouse.common.domain.routing import FILTERED_PARTS, passes
from hookhouse.common.settings import Settings
from tests import filter_cases
from tests.api_client import Tenants, ok
from tests.integration.test_api import at, connected, insert, project_of, request_row

pytestmark = pytest.mark.integration


def documents(rng: random.Random, count: int) -> list[Message]:
    """Bodies JSON (compact, spaced, escaped), empty, text, broken JSON, and the ones
    ClickHouse and Python read differently (a byte order mark, a key twice, deeper than
    1,024 levels, integers beyond 64 bits)."""
    odd = [b"", b"not json", b"a=1&b=2", b" ", b"\xff\xfe", b"\xef\xbb\xbf{}", b"1e400"]
    odd += [b'{"a":1,"a":2}', b'"\\ud800"', b"[" * 1030 + b"]" * 1030, b"nul"]
    odd += [b'{"a":{"b":1,"b":"x"},"type":"x","a":[{"n":1,"n":null}]}', b" \t[1, 2]\n"]
    made = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.1:
            body = rng.choice(odd)
        elif roll < 0.25:
            broken = bytearray(filter_cases.encoded(rng, filter_cases.value(rng)))
            broken.insert(rng.randrange(len(broken) + 1), rng.choice(b'{}[]",:0-.e\\\x00\xc3'))
            body = bytes(broken)
        else:
            body = filter_cases.encoded(rng, filter_cases.value(rng))
        headers = {"x-kind": rng.choice(filter_cases.TEXTS)} if rng.random() < 0.7 else {}
        made.append(Message(headers, body, rng.choice(["/hooks", "/x"]), ""))
    return made


# Bodies and filters where a shortcut would go wrong: a key twice (Python keeps the
# last), a body of plain text equal to a filter's text, an integer beyond 64 bits
# (ClickHouse writes it back as a text of digits), escapes that hide a text from a
# substring search, spaces around the document, arrays of arrays.
EDGES = [
    b'{"a":1,"a":2}',
    b'{"a":{"b":"x","b":"y"},"type":"x"}',
    b"order.paid",
    b'"order.paid"',
    b'{"n":123456789012345678901234,"s":"123456789012345678901234"}',
    b'{"type":"order.\\u0070aid","\\u0061":2}',
    b' \n {"type" : "order.paid"} ',
    b'{"a":[[{"b":"y"}]],"type":["x","order.paid"]}',
    b'{"a":[[[{"b":"y"}]]]}',
    b'{"n":9007199254740993,"m":-9007199254740993}',
    b'{"a":1,"n":1' + b"0" * 400 + b"}",
]
EDGE_RULES: list[Any] = [
    {"a": 2},
    {"a": 1},
    {"a": {"b": "y"}},
    {"a": {"b": "x"}},
    "order.paid",
    {"$startsWith": "order"},
    {"type": "order.paid"},
    {"type": {"$in": ["order.paid"]}},
    {"n": {"$gt": 1}},
    {"s": {"$startsWith": "1"}},
    {"n": {"$exist": True}, "s": "123456789012345678901234"},
    {"type": {"$endsWith": "paid"}},
    {"n": 9007199254740992},
    {"n": {"$gt": 9007199254740992}},
    {"m": {"$lte": -9007199254740992}},
    {"n": {"$in": [9007199254740992, 1]}},
    {"$startsWith": "{"},
]


@pytest.mark.parametrize("arrays", [False, True], ids=["parameters", "arrays"])
def test_the_sql_of_a_filter_agrees_with_the_router_s_filter(
    settings: Settings, arrays: bool
) -> None:
    """Every verdict ClickHouse decides is the router's; most are decided there."""
    rng = random.Random(29)
    messages = [Message({}, body, "/", "") for body in EDGES] + documents(rng, 120)
    client = clickhouse.client(settings, settings.clickhouse_database)
    client.command("DROP TABLE IF EXISTS agreement")
    client.command(
        "CREATE TABLE agreement (n UInt32, body String, headers Map(String, String), "
        "path String, query String) ENGINE = Memory"
    )
    client.insert(
        "agreement",
        [
            [n, base64.b64encode(m.body).decode(), m.headers, m.path, m.query]
            for n, m in enumerate(messages)
        ],
        column_names=["n", "body", "headers", "path", "query"],
    )
    decided = undecided = 0
    rules = [{"type": "filter", "body": spec} for spec in EDGE_RULES]
    rules += [filter_cases.body_rule(rng) for _ in range(250)]
    for rule in rules:
        try:
            for part in FILTERED_PARTS:
                if part in rule:
                    compile_filter(rule[part])
        except InvalidFilter:
            continue
        compiled = filter_sql.Compiled(arrays)
        verdict = filter_sql.rule_verdict(rule, compiled)
        withs = filter_sql.BYTES
        rows = client.query(
            f"WITH {withs} SELECT n, {verdict} FROM agreement ORDER BY n",  # noqa: S608
            parameters=compiled.parameters,
        ).result_rows
        for n, answer in rows:
            if answer == filter_sql.UNDECIDED:
                undecided += 1
                continue
            decided += 1
            expected = passes(rule, messages[n])
            assert (answer == filter_sql.YES) == expected, (rule, messages[n])
    assert decided > 4 * undecided


def stored(project: str, source: str, bodies: list[Any]) -> list[dict[str, Any]]:
    return [
        request_row(project, f"req_bt_{source[-6:]}_{n:04d}", source, at(n), orjson.dumps(body))
        for n, body in enumerate(bodies)
    ]


def test_a_backtest_counts_filtered_and_passed_requests_exactly(
    tenants: Tenants, settings: Settings
) -> None:
    project = project_of(tenants, "project-a")
    source = connected(tenants.a, "bt-filter", "https://example.com/in")["source"]["id"]
    kinds = ["order.created", "order.paid", "customer.created"]
    bodies: list[Any] = [{"type": kinds[n % 3], "n": n} for n in range(60)]
    insert(settings, "requests", stored(project, source, bodies))
    since, until = (at(-10)).isoformat(), (at(100)).isoformat()
    rules = [{"type": "filter", "body": {"type": {"$startsWith": "order."}}}]
    answer = ok(
        tenants.a.post(
            "/connections/backtest",
            json={"source_id": source, "rules": rules, "since": since, "until": until},
        )
    )
    assert answer["requests_count"] == 60
    assert answer["complete"] is True
    assert answer["events_count"] == 40
    assert answer["filtered_count"] == 20
    assert answer["filters"]["decided_in_python_count"] == 0
    assert len(answer["samples"]["events"]) == 5
    assert all(i.startswith("req_bt_") for i in answer["samples"]["filtered"])

    # a filter only Python decides ($ref) gives the same kind of answer
    rules = [{"type": "filter", "body": {"n": {"$ref": "n"}, "type": "order.paid"}}]
    answer = ok(
        tenants.a.post(
            "/connections/backtest",
            json={"source_id": source, "rules": rules, "since": since, "until": until},
        )
    )
    assert (answer["events_count"], answer["filtered_count"]) == (20, 40)
    assert answer["filters"]["decided_in_python_count"] == 20
    assert answer["complete"] is True

    # the range bounds what is read
    answer = ok(
        tenants.a.post(
            "/connections/backtest",
            json={"source_id": source, "rules": rules, "since": since, "until": at(29).isoformat()},
        )
    )
    assert answer["requests_count"] == 30


def test_a_backtest_runs_transformations_and_deduplication_on_a_sample(
    tenants: Tenants, settings: Settings
) -> None:
    project = project_of(tenants, "project-a")
    made = connected(tenants.a, "bt-transform", "https://example.com/in")
    source = made["source"]["id"]
    bodies: list[Any] = [{"type": "order.created", "id": n % 10, "n": n} for n in range(40)]
    bodies += [{"type": "ping"}] * 5
    insert(settings, "requests", stored(project, source, bodies))
    code = (
        "addHandler('transform', (request, context) => {"
        " if (request.body.n % 7 === 3) { throw new Error('no ' + request.body.n); }"
        " request.body.kind = request.body.type; return request; });"
    )
    rules = [
        {"type": "filter", "body": {"type": "order.created"}},
        {"type": "transform", "transformation": {"name": "t", "code": code}},
        {"type": "deduplicate", "window": 60_000, "include_fields": ["body.id"]},
    ]
    body = {
        "source_id": source,
        "rules": rules,
        "since": at(-10).isoformat(),
        "until": at(100).isoformat(),
        "sample_size": 30,
    }
    answer = ok(tenants.a.post("/connections/backtest", json=body))
    assert answer["requests_count"] == 45
    assert answer["filters"]["filtered_count"] == 5
    assert answer["sample"] == {"rules": 2, "size": 30, "of": 40}
    # of n = 0..29: n % 7 == 3 fails (3, 10, 17, 24); the rest keep ids 0..9 once each
    assert answer["transformation_failed_count"] == 4
    assert answer["events_count"] == 10
    assert answer["duplicate_count"] == 16
    assert answer["evaluated_count"] == 35
    assert answer["complete"] is False
    assert answer["errors"][0]["error"].find("no 3") >= 0

    # a saved transformation, by its id: the same code, the same outcomes
    saved = ok(tenants.a.post("/transformations", json={"name": "bt-saved", "code": code}))
    rules[1] = {"type": "transform", "transformation_id": saved["id"]}
    again = ok(tenants.a.post("/connections/backtest", json={**body, "rules": rules}))
    assert again["transformation_failed_count"] == 4 and again["events_count"] == 10

    # a saved connection's rules, by its id, over its own source
    saved = ok(tenants.a.post("/connections/backtest", json={"connection_id": made["id"]}))
    assert saved["source_id"] == source
    assert saved["requests_count"] == 45  # a day old: within the default 7 days
    assert saved["events_count"] == 45  # a connection without rules


def test_a_backtest_stays_in_its_project(tenants: Tenants, settings: Settings) -> None:
    source = connected(tenants.b, "bt-other", "https://example.com/in")["source"]["id"]
    insert(settings, "requests", stored(project_of(tenants, "project-b"), source, [{"a": 1}]))
    answer = tenants.a.post("/connections/backtest", json={"source_id": source})
    assert answer.status_code == 404, answer.text
    mine = ok(tenants.b.post("/connections/backtest", json={"source_id": source}))
    assert mine["requests_count"] == 1
