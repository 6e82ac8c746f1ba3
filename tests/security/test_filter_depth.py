"""Filter evaluation is total: a filter the API accepts answers true or false for any
JSON document, however deep, and never raises (a raise in the router dead-letters the
request as ``routing_failed`` and counts toward the breaker that stops it for every
tenant).  Filters nested past ``MAX_DEPTH`` are refused when written."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hookhouse.common.domain.filters import MAX_DEPTH, InvalidFilter, compile_filter
from hookhouse.common.domain.records import InboundRequest, b64
from hookhouse.common.domain.routing import route
from hookhouse.common.domain.rules import InvalidRule, check_rules

NOW = 1_796_515_200_000  # the time routing is given: 2026-12-06T00:00:00Z

# Past the interpreter's recursion limit (1,000), and past orjson's reading limit (1,024).
DEEP = 3000


def nested(levels: int, inner: Any, kind: str = "list") -> Any:
    """``inner`` inside ``levels`` lists (or objects under key "a"), built without recursion."""
    value = inner
    for _ in range(levels):
        value = [value] if kind == "list" else {"a": value}
    return value


def nested_nots(levels: int) -> dict[str, Any]:
    spec: dict[str, Any] = {"$eq": 1}
    for _ in range(levels):
        spec = {"$not": spec}
    return spec


scalars: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "b", "c", "0"]), inner, max_size=3)
    ),
    max_leaves=12,
)
paths = st.sampled_from(["", "a", "a.b", "a[0]", "a.0.b", "b.c[1]", "a.²", "a.٣", "0"])
refs = st.builds(lambda path: {"$ref": path}, paths)
operands = json_values | refs


def operator_filters(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.builds(
            lambda op, arg: {op: arg}, st.sampled_from(["$eq", "$neq", "$in", "$nin"]), operands
        ),
        st.builds(
            lambda op, arg: {op: arg}, st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), operands
        ),
        st.builds(
            lambda op, arg: {op: arg},
            st.sampled_from(["$startsWith", "$endsWith"]),
            st.text(max_size=3) | st.lists(st.text(max_size=3), max_size=3) | refs,
        ),
        st.builds(lambda flag: {"$exist": flag}, st.booleans()),
        st.builds(lambda path: {"$ref": path}, paths),
        st.builds(lambda sub: {"$not": sub}, inner),
        st.builds(
            lambda op, subs: {op: subs},
            st.sampled_from(["$and", "$or"]),
            st.lists(inner, min_size=1, max_size=3),
        ),
        st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, min_size=1, max_size=3),
        st.lists(inner, max_size=3),
    )


filters = st.recursive(json_values, operator_filters, max_leaves=20)


@st.composite
def deep_documents(draw: st.DrawFn) -> Any:
    """A small document with a very deep part somewhere a filter may look."""
    inner = draw(json_values)
    deep = nested(
        draw(st.sampled_from([300, 1100, DEEP])), inner, draw(st.sampled_from(["list", "dict"]))
    )
    shape = draw(st.sampled_from(["bare", "a", "a and b", "a list"]))
    if shape == "bare":
        return deep
    if shape == "a":
        return {"a": deep, "b": inner}
    if shape == "a and b":
        return {"a": deep, "b": nested(DEEP, inner, "dict")}
    return {"a": [inner, deep], "b": {"c": [0, deep]}}


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(filters, json_values | deep_documents())
def test_an_accepted_filter_answers_every_document_and_never_raises(spec: Any, data: Any) -> None:
    try:
        predicate = compile_filter(spec)
    except InvalidFilter:
        return
    assert predicate(data) in (True, False)


WRAPPERS = ["$not", "$and", "$or", "field", "list"]


def wrapped(spec: Any, wrapper: str) -> Any:
    if wrapper == "$not":
        return {"$not": spec}
    if wrapper in ("$and", "$or"):
        return {wrapper: [spec]}  # two levels: the object and its list
    if wrapper == "field":
        return {"a": spec}
    return [spec]


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(st.sampled_from(WRAPPERS), min_size=1, max_size=MAX_DEPTH),
    filters,
    json_values | deep_documents(),
)
def test_the_deepest_filters_accepted_answer_any_document(
    wrappers: list[str], core: Any, data: Any
) -> None:
    """Filters near the bound, of every operator that nests, each level a Python call
    or three when matched: still far inside the interpreter's stack."""
    spec = core
    for wrapper in wrappers:
        spec = wrapped(spec, wrapper)
    try:
        predicate = compile_filter(spec)
    except InvalidFilter:
        return
    assert predicate(data) in (True, False)
    assert predicate({"a": data}) in (True, False)


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_a_deep_body_meets_every_kind_of_filter_without_raising(kind: str) -> None:
    body = nested(DEEP, {"x": 1}, kind)
    twin = nested(DEEP, {"x": 1}, kind)
    document = {"a": body, "b": twin, "c": [body]}
    for spec, expected in [
        ({"a": {"x": 1}}, kind == "list"),  # "array contains", through every list
        ({"a": {"$ref": "b"}}, True),  # deep equality of two deep values
        ({"a": {"$eq": {"$ref": "b"}}}, True),
        ({"c": {"$in": {"$ref": "b"}}}, kind == "dict"),  # c holds b's deep equal
        ({"c": {"$in": [{"$ref": "b"}]}}, False),  # a $ref inside a list is a literal
        ({"a": {"$neq": {"$ref": "b"}}}, False),
        ({"a": {"$not": {"$ref": "b"}}}, False),
        ({"a": {"$exist": True}}, True),
    ]:
        assert compile_filter(spec)(document) is expected, spec


def test_filters_deeper_than_the_bound_are_refused_when_written() -> None:
    compile_filter(nested(MAX_DEPTH, 1, "dict"))
    compile_filter(nested_nots(MAX_DEPTH - 1))
    for spec in (nested(MAX_DEPTH + 1, 1, "dict"), nested_nots(300), nested(5000, 1, "list")):
        with pytest.raises(InvalidFilter, match="deeper than"):
            compile_filter(spec)
        with pytest.raises(InvalidRule, match="deeper than"):
            check_rules([{"type": "filter", "body": spec}], lambda _: True)


def request(body: bytes) -> InboundRequest:
    return InboundRequest(
        id="req_1",
        project_id="tm_1",
        source_id="src_1",
        received_at="2026-11-23T13:00:00.000Z",
        method="POST",
        path="/x",
        query="",
        headers={"content-type": "application/json"},
        body=b64(body),
    )


def connection(cid: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": cid, "source_id": "src_1", "destination_id": "des_1", "rules": rules}


def test_the_router_filters_and_deduplicates_the_deepest_body_json_allows() -> None:
    deepest = b'{"a":' + b"[" * 1022 + b"]" * 1022 + b',"b":' + b"[" * 1022 + b"]" * 1022 + b"}"
    orjson.loads(deepest)  # what ingest accepts and the router reads as JSON
    connections = [
        connection("equal", [{"type": "filter", "body": {"a": {"$ref": "b"}}}]),
        connection("contains", [{"type": "filter", "body": {"a": 1}}]),
        connection(
            "dedup",
            [{"type": "deduplicate", "window": 60_000, "exclude_fields": ["body.b"]}],
        ),
        connection(
            "dedup-include",
            [{"type": "deduplicate", "window": 60_000, "include_fields": ["body.a"]}],
        ),
    ]
    routed = route(request(deepest), connections, now_ms=NOW)
    assert sorted(e.connection_id for e in routed.events) == ["dedup", "dedup-include", "equal"]
    assert [(i.connection_id, i.cause) for i in routed.ignored] == [("contains", "FILTERED")]


def test_a_stored_filter_past_the_bound_filters_instead_of_failing_the_request() -> None:
    # Written before the API refused such filters: it matches nothing, raises nothing.
    stored = connection("old", [{"type": "filter", "body": nested_nots(300)}])
    routed = route(request(b'{"a":1}'), [stored], now_ms=NOW)
    assert [(i.connection_id, i.cause) for i in routed.ignored] == [("old", "FILTERED")]
