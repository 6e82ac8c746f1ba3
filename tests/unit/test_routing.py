from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import orjson

from hookhouse.common.domain.config import ConfigState, record_key
from hookhouse.common.domain.message import Message, Transformed
from hookhouse.common.domain.records import InboundRequest, b64
from hookhouse.common.domain.routing import (
    Prepared,
    as_received,
    dedup_key,
    first_transformations,
    outputs,
    route,
    transformer,
)

NOW = 1_796_515_200_000  # the time routing is given: 2026-12-06T00:00:00Z


def request(body: bytes = b'{"a":1}') -> InboundRequest:
    return InboundRequest(
        id="req_1",
        project_id="tm_1",
        source_id="src_1",
        received_at="2026-11-23T13:00:00.000Z",
        method="POST",
        path="/x",
        query="q=1",
        headers={"content-type": "application/json"},
        body=b64(body),
    )


def connection(cid: str, **extra: Any) -> dict[str, Any]:
    return {"id": cid, "source_id": "src_1", "destination_id": f"des_{cid}", **extra}


def test_one_delivery_per_enabled_connection() -> None:
    routed = route(request(), [connection("a"), connection("b")], now_ms=NOW)
    assert [d.destination_id for d in routed.deliveries] == ["des_a", "des_b"]
    assert [e.status for e in routed.events] == ["QUEUED", "QUEUED"]
    assert routed.request.events_count == 2
    assert routed.request.rejection_cause == ""


def test_delivery_carries_the_exact_request() -> None:
    body = b'\x00\xffnot utf-8 {"a":1}'
    delivery = route(request(body), [connection("a")], now_ms=NOW).deliveries[0]
    assert delivery.body_bytes == body
    assert (delivery.path, delivery.query, delivery.method) == ("/x", "q=1", "POST")
    assert delivery.headers == {"content-type": "application/json"}
    assert (delivery.attempt, delivery.trigger) == (1, "INITIAL")


def test_event_ids_are_stable_across_replays() -> None:
    first = route(request(), [connection("a")], now_ms=NOW).deliveries[0].event_id
    again = route(request(), [connection("a")], now_ms=NOW).deliveries[0].event_id
    other = route(request(), [connection("b")], now_ms=NOW).deliveries[0].event_id
    assert first == again != other


def test_a_retried_request_makes_new_events_created_now() -> None:
    first = route(request(), [connection("a")], now_ms=NOW)
    replays = [
        route(request(), [connection("a")], replay=tag, trigger="MANUAL", now_ms=NOW)
        for tag in ("rpl_1", "rpl_2")
    ]
    ids = {r.deliveries[0].event_id for r in [first, *replays]}
    assert len(ids) == 3  # never the first pass's id, never each other's
    delivery = replays[0].deliveries[0]
    assert delivery.trigger == "MANUAL"
    assert delivery.created_at > request().received_at  # created now
    assert replays[0].request.created_at == request().received_at  # the request stays put


def test_outputs_send_deliveries_held_ones_and_rows_with_the_request_last() -> None:
    routed = route(request(), [connection("a"), connection("b", paused_at="x")], now_ms=NOW)
    sent = outputs(routed)
    assert [(o.topic, o.key) for o in sent[:2]] == [("deliveries", "des_a"), ("held", "b")]
    assert sent[-1].topic == "records" and sent[-1].key == "req_1"
    assert sent[-1].headers == [("kind", "request")]


def test_no_connection_is_recorded_not_dropped() -> None:
    routed = route(request(), [], now_ms=NOW)
    assert routed.deliveries == [] and routed.events == []
    assert routed.request.rejection_cause == "NO_CONNECTION"


def test_disabled_connections_are_ignored_and_paused_ones_hold() -> None:
    routed = route(
        request(),
        [
            connection("a", disabled_at="2026-01-01T00:00:00Z"),
            connection("b", paused_at="2026-01-01T00:00:00Z"),
        ],
        now_ms=NOW,
    )
    assert routed.deliveries == []
    assert [(e.connection_id, e.status) for e in routed.events] == [("b", "HOLD")]
    assert [d.connection_id for d in routed.held] == ["b"]
    assert [(i.connection_id, i.cause) for i in routed.ignored] == [("a", "DISABLED")]
    assert (routed.request.events_count, routed.request.ignored_count) == (1, 1)


def test_filters_route_by_body_headers_query_and_path() -> None:
    rules = {
        "body": [{"type": "filter", "body": {"a": 1}}],
        "body_miss": [{"type": "filter", "body": {"a": 2}}],
        "headers": [
            {"type": "filter", "headers": {"content-type": {"$startsWith": "application/"}}}
        ],
        "query": [{"type": "filter", "query": {"q": "1"}}],
        "path": [{"type": "filter", "path": {"$endsWith": "/y"}}],
    }
    routed = route(request(), [connection(name, rules=r) for name, r in rules.items()], now_ms=NOW)
    assert [d.connection_id for d in routed.deliveries] == ["body", "headers", "query"]
    assert {(i.connection_id, i.cause) for i in routed.ignored} == {
        ("body_miss", "FILTERED"),
        ("path", "FILTERED"),
    }
    assert routed.request.rejection_cause == ""


def test_a_transformation_feeds_the_filter_after_it_and_the_delivery() -> None:
    def upper(rule: dict[str, Any], message: Message) -> Transformed:
        return Transformed(replace(message, body=b'{"a":2}', headers={"x": "y"}))

    transform_then_filter = [
        {"type": "transform", "transformation_id": "trs_1"},
        {"type": "filter", "body": {"a": 2}},
    ]
    filter_then_transform = list(reversed(transform_then_filter))
    routed = route(
        request(),
        [
            connection("tf", rules=transform_then_filter),
            connection("ft", rules=filter_then_transform),
        ],
        transform=upper,
        now_ms=NOW,
    )
    assert [d.connection_id for d in routed.deliveries] == ["tf"]
    assert routed.deliveries[0].body_bytes == b'{"a":2}'
    assert routed.deliveries[0].headers == {"x": "y"}
    assert [(i.connection_id, i.cause) for i in routed.ignored] == [("ft", "FILTERED")]


def test_a_failed_transformation_is_an_ignored_event_with_its_error_and_logs() -> None:
    def broken(rule: dict[str, Any], message: Message) -> Transformed:
        return Transformed(None, "TypeError: nope", ["line 1"])

    routed = route(
        request(),
        [connection("a", rules=[{"type": "transform", "transformation_id": "t"}])],
        transform=broken,
        now_ms=NOW,
    )
    [ignored] = routed.ignored
    assert ignored.cause == "TRANSFORMATION_FAILED"
    assert json.loads(ignored.meta) == {"error": "TypeError: nope", "logs": ["line 1"]}
    [execution] = routed.executions
    assert (execution.transformation_id, execution.status) == ("t", "FAILED")
    assert json.loads(execution.logs) == ["line 1"] and execution.error == "TypeError: nope"
    assert execution.event_id == ""  # no event came of it


def test_a_run_names_the_event_its_output_became_and_none_when_ignored() -> None:
    def upper(rule: dict[str, Any], message: Message) -> Transformed:
        return Transformed(Message(message.headers, message.body.upper(), message.path, ""))

    transform = {"type": "transform", "transformation_id": "t"}
    drop_all = {"type": "filter", "body": {"never": True}}
    routed = route(
        request(),
        [connection("made", rules=[transform]), connection("dropped", rules=[transform, drop_all])],
        transform=upper,
        now_ms=NOW,
    )
    [delivery] = routed.deliveries
    assert [(e.connection_id, e.status, e.event_id) for e in routed.executions] == [
        ("made", "SUCCESSFUL", delivery.event_id),
        ("dropped", "SUCCESSFUL", ""),
    ]


def test_deduplication_asks_the_memory_with_the_rule_window() -> None:
    seen: set[tuple[str, str]] = set()
    asked: list[int] = []

    def seen_before(connection_id: str, key: str, window_ms: int) -> bool:
        asked.append(window_ms)
        if (connection_id, key) in seen:
            return True
        seen.add((connection_id, key))
        return False

    conns = [connection("a", rules=[{"type": "deduplicate", "window": 60_000}])]
    first = route(request(), conns, seen_before=seen_before, now_ms=NOW)
    again = route(request(), conns, seen_before=seen_before, now_ms=NOW)
    other = route(request(b'{"a":2}'), conns, seen_before=seen_before, now_ms=NOW)
    assert len(first.deliveries) == 1 and len(other.deliveries) == 1
    assert again.deliveries == [] and again.ignored[0].cause == "DUPLICATE"
    assert asked == [60_000] * 3


def test_dedup_keys_on_included_or_all_but_excluded_fields() -> None:
    a = Message({"h": "1"}, b'{"id": 1, "at": "t1"}', "/", "")
    b = Message({"h": "2"}, b'{"id": 1, "at": "t2"}', "/", "")
    c = Message({"h": "1"}, b'{"id": 2, "at": "t1"}', "/", "")
    include = {"include_fields": ["body.id"]}
    exclude = {"exclude_fields": ["body.at", "headers.h"]}
    assert dedup_key(include, a) == dedup_key(include, b) != dedup_key(include, c)
    assert dedup_key(exclude, a) == dedup_key(exclude, b) != dedup_key(exclude, c)
    assert dedup_key({}, a) != dedup_key({}, b)


def test_delay_sets_when_the_delivery_is_due() -> None:
    conns = [connection("a", rules=[{"type": "delay", "delay": 90_000}])]
    delivery = route(request(), conns, now_ms=NOW).deliveries[0]
    assert delivery.not_before == "2026-11-23T13:01:30.000Z"


def test_body_size_is_the_decoded_length() -> None:
    for size in range(0, 7):
        routed = route(request(b"x" * size), [], now_ms=NOW)
        assert routed.request.body_size == size


def test_transformations_run_ahead_are_used_for_the_request_as_received_only() -> None:
    state = ConfigState()
    for tid in ("trs_1", "trs_2"):
        saved: dict[str, Any] = {"id": tid, "project_id": "tm_1", "name": tid, "code": "c"}
        state.apply(record_key("transformation", tid), orjson.dumps(saved))
    ran: list[tuple[str, bytes]] = []

    def run(project_id: str, code: str, env: dict[str, str], message: Message) -> Transformed:
        ran.append((code, message.body))
        return Transformed(replace(message, body=message.body + b" again"))

    chained = [
        {"type": "filter", "body": {"a": 1}},
        {"type": "transform", "transformation_id": "trs_1"},
        {"type": "transform", "transformation_id": "trs_2"},
    ]
    connections = [
        connection("a", rules=chained),
        connection("b", rules=[{"type": "transform", "transformation_id": "trs_1"}]),
        connection("off", disabled_at="x", rules=[{"type": "transform", "transformation_id": "z"}]),
    ]
    assert first_transformations(connections) == {"trs_1"}
    original = as_received(request())
    ahead = Transformed(replace(original, body=b"ahead"), "", ["ran ahead"], 3)
    prepared: Prepared = {(id(original), "trs_1"): ahead}
    routed = route(
        request(),
        connections,
        transformer(state, run, prepared=prepared),
        original=original,
        now_ms=NOW,
    )
    # trs_1 ran ahead on the request as received (both connections use it); only trs_2,
    # which sees trs_1's output, runs now.
    assert ran == [("c", b"ahead")]
    assert [d.body_bytes for d in routed.deliveries] == [b"ahead again", b"ahead"]
    assert [(e.logs, e.duration_ms) for e in routed.executions][1:] == [
        ("[]", 0),
        ('["ran ahead"]', 3),
    ]
