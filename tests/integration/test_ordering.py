"""Ordered delivery's first half over the real broker: the router sends the events of a
connection with ``ordering`` to their lane on ``ordered`` with the request's position as
their sequence, events without the key to ``deliveries``, and a paused connection's
to their lane too (the deliverer holds the lane); and the API's ``ordering`` field."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from confluent_kafka import Message as Record

from hookhouse.common import topics
from hookhouse.common.settings import Settings
from tests.api_client import Tenants, ok
from tests.e2e.running import topic_records, wait_for
from tests.integration.test_router_pipeline import REQUESTS, router_over
from tests.stack import isolated_settings

pytestmark = pytest.mark.integration

BY_TYPE = {"ordering": {"key": "headers.Content-Type"}}  # every request: one key
PAUSED = "2026-12-06T00:00:00.000Z"


def records(settings: Settings, topic: str) -> list[tuple[str, dict[str, Any]]]:
    def pick(msg: Record) -> tuple[str, dict[str, Any]]:
        return (msg.key() or b"").decode(), orjson.loads(msg.value() or b"{}")

    return topic_records(settings.kafka_bootstrap, topics.name(settings, topic), pick)


def positions(settings: Settings) -> dict[str, list[int]]:
    """Each request's [partition, offset] on ``requests``, by request id."""

    def pick(msg: Record) -> tuple[str, list[int]]:
        return orjson.loads(msg.value() or b"{}")["id"], [msg.partition() or 0, msg.offset() or 0]

    name = topics.name(settings, topics.REQUESTS)
    return dict(topic_records(settings.kafka_bootstrap, name, pick))


def of(found: list[tuple[str, dict[str, Any]]], connection: str) -> list[tuple[str, Any]]:
    return [(key, value) for key, value in found if value["connection_id"] == connection]


def test_ordered_connections_send_to_their_lanes(infra: None) -> None:
    settings = isolated_settings()
    no_key = {"ordering": {"key": "body.customer_id"}}  # absent from every request
    held = {**BY_TYPE, "paused_at": PAUSED}
    with router_over(settings, 3, [], [BY_TYPE, no_key, held]):
        wait_for(lambda: len(records(settings, topics.ORDERED)) == 2 * REQUESTS, timeout=60)
        where = positions(settings)
        ordered = records(settings, topics.ORDERED)
        assert {key for key, _ in ordered} == {"web_0:application/json", "web_2:application/json"}
        for _, delivery in ordered:
            assert delivery["ordering_key"] == "application/json"
            assert delivery["sequence"] == where[delivery["request_id"]]
            assert delivery["trigger"] == "INITIAL"
        # One lane, one partition: each requests partition's events in its order.
        for connection in ("web_0", "web_2"):
            mine = [d for _, d in of(ordered, connection)]
            for partition in (0, 1):
                offsets = [d["sequence"][1] for d in mine if d["sequence"][0] == partition]
                assert offsets == sorted(offsets) and len(offsets) == REQUESTS // 2
        plain = records(settings, topics.DELIVERIES)
        assert len(plain) == REQUESTS
        assert all(key == "des_p" and d["ordering_key"] is None for key, d in plain)
        assert all(d["sequence"] is None for _, d in plain)
    # A paused ordered connection's events wait in their lane (the deliverer holds it),
    # not in ``held``: released from there later, they could come after newer ones.
    assert records(settings, topics.HELD) == []


def made(tenants: Tenants, **fields: Any) -> dict[str, Any]:
    body = {
        "source": {"name": "orders-in"},
        "destination": {"name": "orders-out", "url": "https://example.com/hooks"},
    }
    result: dict[str, Any] = ok(tenants.a.post("/connections", json={**body, **fields}))
    return result


def test_the_api_keeps_and_answers_the_ordering(tenants: Tenants) -> None:
    a = tenants.a
    plain = made(tenants, name="plain")
    assert plain["ordering"] is None
    ordered = made(tenants, name="ordered", ordering={"key": "body.customer.id"})
    assert ordered["ordering"] == {"key": "body.customer.id"}
    assert ok(a.get(f"/connections/{ordered['id']}"))["ordering"] == {"key": "body.customer.id"}
    listed = ok(a.get("/connections", params={"name": "ordered"}))["models"]
    assert [m["ordering"] for m in listed] == [{"key": "body.customer.id"}]

    renamed = ok(a.put(f"/connections/{ordered['id']}", json={"description": "kept"}))
    assert renamed["ordering"] == {"key": "body.customer.id"}  # not given: kept
    moved = ok(a.put(f"/connections/{ordered['id']}", json={"ordering": {"key": "path"}}))
    assert moved["ordering"] == {"key": "path"}
    assert ok(a.put(f"/connections/{ordered['id']}/pause"))["ordering"] == {"key": "path"}
    dropped = ok(a.put(f"/connections/{ordered['id']}", json={"ordering": None}))
    assert dropped["ordering"] is None

    body = {
        "name": "upserted",
        "source": {"name": "orders-in"},
        "destination_id": plain["destination"]["id"],
    }
    first = ok(a.put("/connections", json={**body, "ordering": {"key": "headers.x-account"}}))
    assert first["ordering"] == {"key": "headers.x-account"}
    again = ok(a.put("/connections", json={**body, "ordering": {"key": "query.account"}}))
    assert again["id"] == first["id"] and again["ordering"] == {"key": "query.account"}
