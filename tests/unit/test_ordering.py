"""Ordered delivery's pure half: the setting, the key of an event, where a delivery goes,
and what the router's routing does with them."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

import orjson
import pytest

from hookhouse.common.domain import topics
from hookhouse.common.domain.message import Message, Transformed
from hookhouse.common.domain.ordering import (
    KEY_MAX,
    InvalidOrdering,
    Ordering,
    key_of,
    lane_of,
    parse,
    readable,
    sent_to,
)
from hookhouse.common.domain.routing import outputs, route
from tests.unit.test_routing import connection, request

NOW = 1_796_515_200_000
CUSTOMER = b'{"customer_id":"cus_1"}'


def message(body: Any = None, headers: dict[str, str] | None = None, **rest: str) -> Message:
    raw = body if isinstance(body, bytes) else orjson.dumps(body) if body is not None else b""
    return Message(headers or {}, raw, rest.get("path", "/hooks"), rest.get("query", ""))


def key(path: str, msg: Message) -> str | None:
    return key_of(parse({"key": path}), msg)


def test_no_setting_orders_nothing() -> None:
    assert parse(None) is None
    assert key_of(None, message({"a": 1})) is None


@pytest.mark.parametrize(
    ("path", "parsed"),
    [
        ("body.customer_id", Ordering("body", "customer_id")),
        ("body.a.b.0.c", Ordering("body", "a.b.0.c")),
        ("headers.X-Account", Ordering("headers", "x-account")),
        ("query.account", Ordering("query", "account")),
        ("query.a.b", Ordering("query", "a.b")),
        ("path", Ordering("path", "")),
    ],
)
def test_each_path_form_parses(path: str, parsed: Ordering) -> None:
    assert parse({"key": path}) == parsed


def test_body_paths_read_nested_fields_and_array_indices() -> None:
    body = {"customer": {"id": "cus_1"}, "items": [{"id": 7}, {"id": 8}], "0": {"x": "y"}}
    assert key("body.customer.id", message(body)) == "cus_1"
    assert key("body.items.1.id", message(body)) == "8"
    assert key("body.items[0].id", message(body)) == "7"  # as filters read paths
    assert key("body.0.x", message(body)) == "y"  # digits on an object: its key
    assert key("body.items.2.id", message(body)) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("cus_1", "cus_1"),
        ("", ""),
        (42, "42"),
        (-4.5, "-4.5"),
        (1.0, "1.0"),
        (True, "true"),
        (False, "false"),
        (None, None),
        ({"id": 1}, None),
        ([1, 2], None),
    ],
)
def test_value_types(value: Any, expected: str | None) -> None:
    assert key("body.k", message({"k": value})) == expected


def test_a_number_and_its_text_are_one_key() -> None:
    assert key("body.k", message({"k": 42})) == key("body.k", message({"k": "42"}))
    assert key("body.k", message({"k": 1})) != key("body.k", message({"k": 1.0}))


def test_absent_values_give_no_key() -> None:
    msg = message({"a": 1}, {"x-other": "1"}, query="b=2")
    assert key("body.missing", msg) is None
    assert key("body.a.deeper", msg) is None
    assert key("headers.x-account", msg) is None
    assert key("query.a", msg) is None


def test_a_body_that_is_not_json_has_no_body_key() -> None:
    assert key("body.a", message(b"a=1&b=2")) is None
    assert key("body.a", message(b"")) is None
    assert key("body.a", message(b'"just text"')) is None


def test_headers_are_read_whatever_their_case() -> None:
    msg = message({}, {"X-Account": "acct_1"})
    assert key("headers.x-account", msg) == "acct_1"
    assert key("headers.X-ACCOUNT", msg) == "acct_1"


def test_query_and_path() -> None:
    assert key("query.account", message(query="account=a1&x=2")) == "a1"
    assert key("query.account", message(query="account=a1&account=a2")) is None  # a list
    assert key("path", message(path="/orders/9")) == "/orders/9"


def test_long_keys_become_digests_that_never_share_a_lane() -> None:
    at_limit, past = "a" * KEY_MAX, "a" * KEY_MAX + "b"
    assert key("body.k", message({"k": at_limit})) == at_limit
    long_key = key("body.k", message({"k": past}))
    assert long_key == "sha256:" + hashlib.sha256(past.encode()).hexdigest()
    other = key("body.k", message({"k": "a" * KEY_MAX + "c"}))
    assert other != long_key and len(long_key) <= KEY_MAX  # same prefix, two lanes


def test_a_value_that_looks_like_a_digest_is_digested_too() -> None:
    past = "z" * (KEY_MAX + 1)
    digest = key("body.k", message({"k": past}))
    assert digest is not None
    assert key("body.k", message({"k": digest})) != digest


@pytest.mark.parametrize(
    "setting",
    [
        "body.a",
        ["body.a"],
        {},
        {"key": 1},
        {"key": None},
        {"key": "body.a", "extra": 1},
        {"key": ""},
        {"key": "body"},
        {"key": "body."},
        {"key": "body.a..b"},
        {"key": "body.a."},
        {"key": "headers."},
        {"key": "headers.bad name"},
        {"key": "query."},
        {"key": "path.x"},
        {"key": "cookies.a"},
        {"key": "Body.a"},
        {"key": "body." + ".".join(["a"] * 32)},
        {"key": "body." + "a" * 300},
    ],
)
def test_invalid_settings_are_refused(setting: Any) -> None:
    with pytest.raises(InvalidOrdering):
        parse(setting)
    assert readable(setting) is None  # stored before a limit: orders nothing


def test_where_a_delivery_goes() -> None:
    delivery = route(request(CUSTOMER), [connection("a")], now_ms=NOW).deliveries[0]
    assert sent_to(delivery) == (topics.DELIVERIES, "des_a")
    ordered = replace(delivery, ordering_key="cus:1", sequence=[0, 5])
    assert lane_of(ordered) == "a:cus:1"
    assert sent_to(ordered) == (topics.ORDERED, "a:cus:1")


BY_CUSTOMER = {"key": "body.customer_id"}


def test_the_routers_first_pass_orders_by_key() -> None:
    routed = route(
        request(CUSTOMER),
        [connection("a", ordering=BY_CUSTOMER), connection("b")],
        now_ms=NOW,
        position=(3, 41),
    )
    ordered, plain = routed.deliveries
    assert (ordered.ordering_key, ordered.sequence) == ("cus_1", [3, 41])
    assert (plain.ordering_key, plain.sequence) == (None, None)
    made = [(out.topic, out.key) for out in outputs(routed) if out.topic != topics.RECORDS]
    assert made == [(topics.ORDERED, "a:cus_1"), (topics.DELIVERIES, "des_b")]


def test_events_without_the_key_go_unordered() -> None:
    routed = route(
        request(b'{"other":1}'),
        [connection("a", ordering=BY_CUSTOMER)],
        now_ms=NOW,
        position=(0, 1),
    )
    assert routed.deliveries[0].ordering_key is None
    assert routed.deliveries[0].sequence is None
    assert outputs(routed)[0].topic == topics.DELIVERIES


def test_replays_backfills_and_backtests_are_not_ordered() -> None:
    conn = connection("a", ordering=BY_CUSTOMER)
    for routed in (
        route(request(CUSTOMER), [conn], replay="rpl_1", trigger="MANUAL", now_ms=NOW),
        route(request(CUSTOMER), [conn], trigger="BACKFILL", now_ms=NOW),
    ):
        assert routed.deliveries[0].ordering_key is None
        assert outputs(routed)[0].topic == topics.DELIVERIES


def test_a_paused_connection_sends_ordered_deliveries_to_their_lane() -> None:
    """Not to ``held``: released from there later, they would come after newer ones."""
    conn = connection("a", ordering=BY_CUSTOMER, paused_at="2026-11-23T12:00:00.000Z")
    routed = route(request(CUSTOMER), [conn], now_ms=NOW, position=(1, 2))
    assert routed.held == []
    (queued,) = routed.deliveries
    assert (queued.ordering_key, queued.sequence) == ("cus_1", [1, 2])
    assert routed.events[0].status == "HOLD"
    assert outputs(routed)[0].topic == topics.ORDERED
    unkeyed = route(request(b"{}"), [conn], now_ms=NOW, position=(1, 3))
    assert [d.event_id for d in unkeyed.held] == [unkeyed.events[0].id]


def test_the_key_is_read_after_transformations() -> None:
    def transform(rule: dict[str, Any], msg: Message) -> Transformed:
        return Transformed(replace(msg, body=b'{"customer_id":"from_code"}'))

    conn = connection(
        "a", ordering=BY_CUSTOMER, rules=[{"type": "transform", "transformation_id": "trs_1"}]
    )
    routed = route(request(CUSTOMER), [conn], transform, now_ms=NOW, position=(0, 0))
    assert routed.deliveries[0].ordering_key == "from_code"
