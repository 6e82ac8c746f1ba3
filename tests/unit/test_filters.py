"""The filter evaluator: Hookdeck's documented cases, operators, and equivalences."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookhouse.common.domain.filters import InvalidFilter, compile_filter


def matches(spec: Any, data: Any) -> bool:
    return compile_filter(spec)(data)


@pytest.mark.parametrize(
    ("data", "spec", "expected"),
    [
        (False, False, True),
        ({"type": "order/created", "order": {"id": 123}}, {"type": "order/created"}, True),
        ({"type": "order/updated"}, {"type": "order/created"}, False),
        ({"product": {"title": "A", "inventory": 0}}, {"product": {"inventory": 0}}, True),
        ({"order": {"items": [{"id": 456}, {"id": 7}]}}, {"order": {"items": {"id": 456}}}, True),
        ({"tags": ["gift", "something"]}, {"tags": "gift"}, True),
        ({"tags": ["gift", "something", "x"]}, {"tags": ["gift", "something"]}, True),
        ({"tags": ["gift"]}, {"tags": ["gift", "something"]}, False),
        ("/webhooks/stripe", "/webhooks/stripe", True),
        ({"n": 1}, {"n": True}, False),  # JSON: true is not 1
        ({"a": None}, {"a": None}, True),
        ({}, {"a": None}, False),
        ({"n": 5}, {"n": {"$gte": 5, "$lt": 10}}, True),
        ({"n": 10}, {"n": {"$gte": 5, "$lt": 10}}, False),
        ({"at": "2026-11-23T10:00:00Z"}, {"at": {"$gt": "2026-01-01"}}, True),
        ({"n": "5"}, {"n": {"$gt": 1}}, False),  # no comparing a string with a number
        ({"s": "order.created"}, {"s": {"$startsWith": "order."}}, True),
        ({"s": "order.created"}, {"s": {"$endsWith": ["updated", "created"]}}, True),
        ({"s": "order.created"}, {"s": {"$in": "created"}}, True),
        ({"s": "b"}, {"s": {"$in": ["a", "b"]}}, True),
        ({"s": ["x", "b"]}, {"s": {"$in": ["a", "b"]}}, True),
        ({"s": "c"}, {"s": {"$nin": ["a", "b"]}}, True),
        ({"s": "c"}, {"s": {"$neq": "c"}}, False),
        ({"s": {"x": 1}}, {"s": {"$eq": {"x": 1}}}, True),
        ({"a": 1}, {"b": {"$exist": False}}, True),
        ({"a": 1}, {"a": {"$exist": False}}, False),
        ({"a": 1}, {"a": {"$exist": True}}, True),
        ({"a": 1, "b": 2}, {"$or": [{"a": 2}, {"b": 2}]}, True),
        ({"a": 1, "b": 2}, {"$and": [{"a": 1}, {"b": 3}]}, False),
        ({"a": 1, "b": 2}, {"$or": [{"a": 2}, {"b": 2}], "a": 1}, True),
        ({"a": 1, "b": 2}, {"$or": [{"a": 2}, {"b": 2}], "a": 3}, False),
        ({"a": 1}, {"a": {"$not": {"$in": [1, 2]}}}, False),
        ({"a": 1, "b": 1}, {"a": {"$ref": "b"}}, True),
        ({"a": 1, "b": {"c": [0, 2]}}, {"a": {"$lt": {"$ref": "b.c[1]"}}}, True),
        ({"a": 3, "b": {"c": [0, 2]}}, {"a": {"$lt": {"$ref": "b.c.1"}}}, False),
    ],
)
def test_documented_and_operator_cases(data: Any, spec: Any, expected: bool) -> None:
    assert matches(spec, data) is expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"a": {"$regex": "x"}}, "unknown operator '$regex'"),
        ({"a": {"$eq": 1, "b": {"$gt": []}, "$nope": 1}}, "unknown operator '$nope'"),
        ({"$or": []}, "non-empty list"),
        ({"a": {"$exist": "yes"}}, "true or false"),
        ({"a": {"$startsWith": 3}}, "string or a list"),
    ],
)
def test_invalid_filters_say_what_is_wrong(spec: Any, message: str) -> None:
    with pytest.raises(InvalidFilter, match=message.replace("$", r"\$")):
        compile_filter(spec)


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(["a", "b", "ab", ""])
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["a", "b"]), inner, max_size=2)
    ),
    max_leaves=6,
)
documents = st.dictionaries(st.sampled_from(["a", "b", "c"]), values, max_size=3)
options = st.one_of(st.lists(scalars, max_size=3), st.sampled_from(["a", "b"]))


@given(documents, options)
def test_not_in_is_nin(document: dict[str, Any], option: Any) -> None:
    assert matches({"a": {"$not": {"$in": option}}}, document) == matches(
        {"a": {"$nin": option}}, document
    )


@given(documents, scalars)
def test_not_eq_is_neq(document: dict[str, Any], literal: Any) -> None:
    assert matches({"a": {"$not": {"$eq": literal}}}, document) == matches(
        {"a": {"$neq": literal}}, document
    )


@given(documents, values, values)
def test_or_and_and_follow_boolean_logic(document: dict[str, Any], x: Any, y: Any) -> None:
    fx, fy = {"a": x}, {"b": y}
    one, other = matches(fx, document), matches(fy, document)
    assert matches({"$or": [fx, fy]}, document) == (one or other)
    assert matches({"$and": [fx, fy]}, document) == (one and other)
    assert matches({"$not": {"$or": [fx, fy]}}, document) == (not one and not other)


@given(documents, st.integers(-5, 5))
def test_comparisons_partition_the_numbers(document: dict[str, Any], bound: int) -> None:
    value = document.get("a")
    if not isinstance(value, int) or isinstance(value, bool):
        return
    below = matches({"a": {"$lt": bound}}, document)
    equal = matches({"a": {"$eq": bound}}, document)
    above = matches({"a": {"$gt": bound}}, document)
    assert [below, equal, above].count(True) == 1
    assert matches({"a": {"$lte": bound}}, document) == (below or equal)


@given(documents)
def test_a_document_matches_itself(document: dict[str, Any]) -> None:
    assert matches(document, document)


@given(documents)
def test_exist_agrees_with_presence(document: dict[str, Any]) -> None:
    assert matches({"a": {"$exist": True}}, document) == ("a" in document)
    assert matches({"a": {"$exist": False}}, document) == ("a" not in document)
