from __future__ import annotations

from typing import Any

from hookhouse.common.records import InboundRequest, b64
from hookhouse.router.routing import route


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
    routed = route(request(), [connection("a"), connection("b")])
    assert [d.destination_id for d in routed.deliveries] == ["des_a", "des_b"]
    assert [e.status for e in routed.events] == ["QUEUED", "QUEUED"]
    assert routed.request.events_count == 2
    assert routed.request.rejection_cause == ""


def test_delivery_carries_the_exact_request() -> None:
    body = b'\x00\xffnot utf-8 {"a":1}'
    delivery = route(request(body), [connection("a")]).deliveries[0]
    assert delivery.body_bytes == body
    assert (delivery.path, delivery.query, delivery.method) == ("/x", "q=1", "POST")
    assert delivery.headers == {"content-type": "application/json"}
    assert (delivery.attempt, delivery.trigger) == (1, "INITIAL")


def test_event_ids_are_stable_across_replays() -> None:
    first = route(request(), [connection("a")]).deliveries[0].event_id
    again = route(request(), [connection("a")]).deliveries[0].event_id
    other = route(request(), [connection("b")]).deliveries[0].event_id
    assert first == again != other


def test_no_connection_is_recorded_not_dropped() -> None:
    routed = route(request(), [])
    assert routed.deliveries == [] and routed.events == []
    assert routed.request.rejection_cause == "NO_CONNECTION"


def test_disabled_connections_are_skipped_and_paused_ones_hold() -> None:
    routed = route(
        request(),
        [
            connection("a", disabled_at="2026-01-01T00:00:00Z"),
            connection("b", paused_at="2026-01-01T00:00:00Z"),
        ],
    )
    assert routed.deliveries == []
    assert [(e.connection_id, e.status) for e in routed.events] == [("b", "HOLD")]


def test_body_size_is_the_decoded_length() -> None:
    for size in range(0, 7):
        routed = route(request(b"x" * size), [])
        assert routed.request.body_size == size
