"""What an attacker would send to ordered delivery: ``ordering`` settings at and past
their bounds, nested and of the wrong types, paths that look like injections, another
project's connection; and bodies, headers and queries whose key values are huge, nested
or odd, which must still make a delivery its schema accepts."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson
import pytest

from hookhouse.common.domain import topics
from hookhouse.common.domain.ordering import KEY_MAX, PATH_MAX, SEGMENTS_MAX
from hookhouse.common.domain.routing import outputs, route
from hookhouse.common.domain.schemas import first_error
from tests.api_client import Tenants, ok, refused
from tests.unit.test_routing import connection, request

NOW = 1_796_515_200_000


def connection_body(ordering: Any) -> dict[str, Any]:
    return {
        "name": "ordered",
        "source": {"name": "in"},
        "destination": {"name": "out", "url": "https://example.com/hooks"},
        "ordering": ordering,
    }


BAD_SETTINGS = [
    1,
    "body.a",
    True,
    [{"key": "body.a"}],
    {},
    {"key": 1},
    {"key": ["body.a"]},
    {"key": {"$ne": None}},
    {"key": "body.a", "unknown": 1},
    {"key": "body.a", "key2": "x" * 100_000},
    {"key": ""},
    {"key": "body"},
    {"key": "body.a..b"},
    {"key": ".body.a"},
    {"key": "headers.x\r\nx-injected: 1"},
    {"key": "headers.a b"},
    {"key": "headers.x\x00"},
    {"key": "path.x"},
    {"key": "body." + "a" * PATH_MAX},
    {"key": "body." + ".".join(["a"] * SEGMENTS_MAX)},
    {"key": "body." + "a." * 5_000 + "a"},
]


@pytest.mark.integration
@pytest.mark.parametrize("setting", BAD_SETTINGS)
def test_bad_settings_are_a_clear_422(tenants: Tenants, setting: Any) -> None:
    message = refused(
        tenants.a.post("/connections", json=connection_body(setting)), 422, "UNPROCESSABLE_ENTITY"
    )
    assert "ordering" in message and len(message) < 500


@pytest.mark.integration
def test_settings_at_the_bounds_are_kept(tenants: Tenants) -> None:
    longest = "body." + "a" * (PATH_MAX - len("body."))
    deepest = "body." + ".".join(["a"] * (SEGMENTS_MAX - 1))
    odd = ["query.a&b=c", "query.$where", "body.__proto__", "headers.X-Forwarded-For"]
    for path in [longest, deepest, *odd]:
        made = ok(tenants.a.put("/connections", json=connection_body({"key": path})))
        assert made["ordering"] == {"key": path}


@pytest.mark.integration
def test_another_projects_connection_cannot_be_ordered(tenants: Tenants) -> None:
    theirs = ok(tenants.a.post("/connections", json={**connection_body(None), "name": "mine"}))
    path = f"/connections/{theirs['id']}"
    refused(tenants.b.put(path, json={"ordering": {"key": "path"}}), 404, "NOT_FOUND")
    assert ok(tenants.a.get(path))["ordering"] is None


def routed_key(
    body: bytes, path: str, headers: dict[str, str] | None = None, query: str = ""
) -> Any:
    sent = replace(request(body), headers=headers or {}, query=query)
    ordered = connection("a", ordering={"key": path})
    routed = route(sent, [ordered], now_ms=NOW, position=(0, 7))
    (delivery,) = routed.deliveries
    assert first_error(topics.DELIVERIES, orjson.loads(delivery.to_json())) is None
    out = outputs(routed)[0]
    assert out.topic == (topics.DELIVERIES if delivery.ordering_key is None else topics.ORDERED)
    return delivery.ordering_key


def test_a_huge_key_value_becomes_a_bounded_digest() -> None:
    huge = orjson.dumps({"k": "x" * 1_000_000})
    key = routed_key(huge, "body.k")
    assert key.startswith("sha256:") and len(key) <= KEY_MAX
    assert routed_key(b"", "headers.x-k", {"x-k": "y" * 1_000_000}).startswith("sha256:")
    assert routed_key(b"", "query.k", query="k=" + "z" * 100_000).startswith("sha256:")


def test_deep_and_odd_bodies_give_no_key_or_a_plain_one() -> None:
    deep = b'{"a":' * 1000 + b"1" + b"}" * 1000
    assert routed_key(deep, "body." + ".".join(["a"] * (SEGMENTS_MAX - 1))) is None
    assert routed_key(b"[" * 5000, "body.a") is None  # not JSON
    assert routed_key(b"\xff\xfe not utf-8", "body.a") is None
    assert routed_key(b'{"k": 1e308}', "body.k") == "1e+308"  # as orjson writes it
    assert routed_key(b'{"k": "a\\u0000b\\r\\n"}', "body.k") == "a\x00b\r\n"
    # Past 64 bits an integer is read as a float: ids that large share lanes unless sent
    # as text (docs/connections.md says so).
    assert routed_key(b'{"k": 99999999999999999999999}', "body.k") == "1e+23"
    assert routed_key(b'{"__proto__": {"k": "p"}}', "body.__proto__.k") == "p"
