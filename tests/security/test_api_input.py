"""Every bad input to the management API is a 4xx in its error shape (JSON with a
``code`` and a ``message``), never a 5xx or plain text: list parameters, cursors, path
ids of another project, bodies that are not objects, of the wrong types, too deep or
too large.  A connection body that is refused leaves nothing behind."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from confluent_kafka import KafkaError, KafkaException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hookhouse.api import measures
from hookhouse.api.pages import encode_cursor
from hookhouse.api.resources import Resources
from hookhouse.common.configlog import ConfigLog
from tests.api_client import Tenants, ok, refused

pytestmark = pytest.mark.integration

SEEK_LISTS = [  # ClickHouse lists, read by seeking from a cursor
    "/requests",
    "/events",
    "/attempts",
    "/requests/req_x/events",
    "/requests/req_x/ignored_events",
    "/transformations/trs_x/executions",
]
CONFIG_LISTS = [
    "/sources",
    "/destinations",
    "/connections",
    "/transformations",
    "/issue-triggers",
    "/bookmarks",
    "/bulk/events/retry",
    "/bulk/requests/retry",
    "/bulk/ignored-events/retry",
    "/issues",
]
COUNTS = [
    "/sources/count",
    "/connections/count",
    "/issues/count",
    "/bulk/events/retry/plan",
    "/bulk/requests/retry/plan",
    "/bulk/ignored-events/retry/plan",
]
METRICS = [*(f"/metrics/{kind}" for kind in measures.MEASURES), "/metrics/queue-depth"]
LISTS = [*SEEK_LISTS, *CONFIG_LISTS]
ENDPOINTS = [*LISTS, *COUNTS, *METRICS]

PARAMETERS = [
    *("limit", "order_by", "dir", "next", "prev", "id", "name", "search_term", "status"),
    *("disabled", "paused", "verified", "type", "webhook_id", "source_id"),
    *("created_at[gte]", "created_at[lt]", "updated_at[lte]", "last_attempt_at[gt]"),
    *("response_status", "response_status[gte]", "attempts[lt]", "events_count", "error_code"),
    *("date_range[gte]", "date_range[lte]", "granularity", "measures", "dimensions"),
]
FORGED_CURSORS = [
    encode_cursor(("garbage", "x")),
    encode_cursor(("", "")),
    encode_cursor(("0001-01-01", "x")),
    "eyJhIjoxfQ",  # {"a":1}
    "%%%",
]
ODD_VALUES = [
    *("²", "٣", "-1", "0", "251", "99999999999999999999", "", "\x00", "a" * 3000, "1e3"),
    *("true", "2026-13-45", "9999-12-31T23:59:59", "2026-01-01T00:00:00-23:59", "日本"),
    *("1s", "99999w", "count", "source_id", "asc", "updated_at"),
    *FORGED_CURSORS,
]


def answered_in_shape(response: httpx.Response) -> None:
    """Not a server error, and JSON; a refusal in the API's error shape."""
    assert response.status_code < 500, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.text
    if response.status_code >= 400:
        body = response.json()
        assert body["status"] == response.status_code and body["code"] and body["message"]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("limit", ["²", "³", "¹⁰", "2²"])
def test_a_limit_of_digits_that_are_not_ascii_is_refused(
    tenants: Tenants, path: str, limit: str
) -> None:
    message = refused(tenants.a.get(path, params={"limit": limit}), 422, "UNPROCESSABLE_ENTITY")
    assert "'limit'" in message


@pytest.mark.parametrize("path", SEEK_LISTS)
@pytest.mark.parametrize("cursor", FORGED_CURSORS)
@pytest.mark.parametrize(("side", "direction"), [("next", "asc"), ("prev", "desc")])
def test_a_forged_cursor_is_refused_not_sent_to_clickhouse(
    tenants: Tenants, path: str, cursor: str, side: str, direction: str
) -> None:
    response = tenants.a.get(path, params={side: cursor, "dir": direction})
    assert f"'{side}'" in refused(response, 422, "UNPROCESSABLE_ENTITY")


def test_a_cursor_the_api_gave_out_still_pages(tenants: Tenants) -> None:
    # A real cursor names a time and an id; the check must let it through.
    cursor = encode_cursor(("2026-11-23T13:00:00.000Z", "req_x"))
    # ISO 8601 that Python reads and ClickHouse would not: written as the API writes times.
    week = encode_cursor(("2026-W01-1", "req_x"))
    for side, direction in (("next", "asc"), ("next", "desc"), ("prev", "asc")):
        ok(tenants.a.get("/requests", params={side: cursor, "dir": direction}))
        ok(tenants.a.get("/requests", params={side: week, "dir": direction}))


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.sampled_from(ENDPOINTS),
    st.dictionaries(
        st.sampled_from(PARAMETERS),
        st.sampled_from(ODD_VALUES) | st.text(max_size=30),
        min_size=1,
        max_size=4,
    ),
)
def test_no_list_parameter_gets_a_server_error_or_plain_text(
    tenants: Tenants, path: str, params: dict[str, str]
) -> None:
    answered_in_shape(tenants.a.get(path, params=params))


def test_every_list_parameter_with_every_odd_value(tenants: Tenants) -> None:
    """The same walk as a table, one parameter at a time, on one list of each kind."""
    for path in ("/events", "/sources", "/issues", "/metrics/attempts", "/bulk/events/retry/plan"):
        for name in PARAMETERS:
            for value in ODD_VALUES:
                answered_in_shape(tenants.a.get(path, params={name: value}))


ERROR_CODE_FILTERS = [
    "/events",
    "/attempts",
    "/metrics/events",
    "/metrics/attempts",
    "/bulk/events/retry/plan",
]


@pytest.mark.parametrize("path", ERROR_CODE_FILTERS)
def test_an_error_code_filter_takes_either_list_and_refuses_other_codes(
    tenants: Tenants, path: str
) -> None:
    for known in ("HOST_UNREACHABLE", "SSRF_BLOCKED", "BAD_RESPONSE", "SELF_SIGNED_CERT"):
        ok(tenants.a.get(path, params={"error_code": known}))
    many = [("error_code", "TIMEOUT")] * 500 + [("error_code", "UNKNOWN")]
    ok(tenants.a.get(path, params=many))
    for odd in ("timeout", "SSRF", "", " TIMEOUT", "TIMEOUT\x00", "日本", "A" * 3000):
        message = refused(
            tenants.a.get(path, params=[("error_code", "TIMEOUT"), ("error_code", odd)]),
            422,
            "UNPROCESSABLE_ENTITY",
        )
        assert "'error_code'" in message and "is not an attempt error code" in message
        assert len(message) < 1000  # a long value is not echoed whole


def test_a_bulk_retry_of_an_unknown_error_code_is_refused(tenants: Tenants) -> None:
    for query in ({"error_code": "NOPE"}, {"error_code": ["TIMEOUT", "NOPE"]}):
        body = {"query": query}
        refused(tenants.a.post("/bulk/events/retry", json=body), 422, "UNPROCESSABLE_ENTITY")
    made = ok(tenants.a.post("/bulk/events/retry", json={"query": {"error_code": "TIMEOUT"}}))
    assert made["query"] == {"error_code": "TIMEOUT"}


WRITES = [
    ("POST", "/sources"),
    ("PUT", "/sources"),
    ("POST", "/destinations"),
    ("POST", "/connections"),
    ("PUT", "/connections"),
    ("POST", "/transformations"),
    ("PUT", "/transformations/run"),
    ("POST", "/issue-triggers"),
    ("POST", "/bookmarks"),
    ("PUT", "/notifications/webhooks"),
    ("POST", "/bulk/events/retry"),
    ("POST", "/requests/req_x/retry"),
]


@pytest.fixture(scope="module")
def transformation_id(tenants: Tenants) -> str:
    made = ok(
        tenants.a.post(
            "/transformations",
            json={"name": "typed", "code": "addHandler('transform', (r) => r)"},
        )
    )
    return str(made["id"])


DESTINATION = {"name": "typed", "url": "https://typed.example"}
SAVED = "<the saved transformation>"
WRONG_TYPES: list[tuple[str, str, dict[str, Any], str]] = [
    ("POST", "/destinations", {**DESTINATION, "http_method": 1}, "http_method"),
    ("POST", "/destinations", {**DESTINATION, "http_method": "TRACE"}, "http_method"),
    ("POST", "/destinations", {**DESTINATION, "http_method": ["POST"]}, "http_method"),
    ("POST", "/destinations", {**DESTINATION, "path_forwarding_disabled": "no"}, "path_forwarding"),
    ("POST", "/destinations", {**DESTINATION, "rate_limit": True}, "rate_limit"),
    ("PUT", "/transformations/run", {"transformation_id": SAVED, "env": "x"}, "env"),
    ("PUT", "/transformations/run", {"transformation_id": SAVED, "env": [1]}, "env"),
    ("PUT", "/transformations/run", {"transformation_id": SAVED, "env": {"a": 1}}, "env"),
]


def test_bodies_not_objects_wrong_types_and_another_project_s_ids_are_refused(
    tenants: Tenants, transformation_id: str
) -> None:
    for method, path in WRITES:
        for raw in (b"[]", b"1", b'"x"', b"null", b"\xff", b"{", b"[[[[[[[]]]]]]]"):
            response = tenants.a.request(method, path, content=raw)
            answered_in_shape(response)
            assert response.status_code in (400, 404, 422), (method, path, raw, response.text)
    for method, path, body, field in WRONG_TYPES:
        if body.get("transformation_id") == SAVED:
            body = {**body, "transformation_id": transformation_id}
        response = tenants.a.request(method, path, json=body)
        assert field in refused(response, 422, "UNPROCESSABLE_ENTITY"), (path, body)
    deep: Any = "x"
    for _ in range(300):  # stored as given, it could not be written back (orjson: 254)
        deep = {"a": [deep]}
    for method, path, body in [
        ("POST", "/issue-triggers", {"type": "delivery", "channels": {"email": deep}}),
        ("POST", "/sources", {"name": "deep", "verification": {"type": "x", "configs": deep}}),
        ("POST", "/sources", {"name": "deep", "description": "d", "extra": deep}),
        ("PUT", "/transformations/run", {"code": "x", "request": {"body": deep}}),
    ]:
        response = tenants.a.request(method, path, json=body)
        assert "deeper than 64" in refused(response, 422, "UNPROCESSABLE_ENTITY"), path
    another_project_s_ids_are_not_found(tenants, transformation_id)


def nested_nots(levels: int) -> dict[str, Any]:
    spec: dict[str, Any] = {"$eq": 1}
    for _ in range(levels):
        spec = {"$not": spec}
    return spec


@pytest.mark.parametrize("levels", [40, 300, 1000])
def test_a_filter_nested_too_deep_is_refused(tenants: Tenants, levels: int) -> None:
    # Written by hand: Python's and orjson's encoders stop short of 1,000 levels.
    deep = b'{"$not":' * levels + b'{"$eq":1}' + b"}" * levels
    body = (
        b'{"name": "deep-%d", "source": {"name": "deep-%d-in"}, '
        b'"destination": {"name": "deep-%d-out", "url": "https://deep.example"}, '
        b'"rules": [{"type": "filter", "body": {"a": %s}}]}' % (levels, levels, levels, deep)
    )
    response = tenants.a.post("/connections", content=body)
    assert "deeper than" in refused(response, 422, "UNPROCESSABLE_ENTITY")
    assert ok(tenants.a.get("/sources/count", params={"name": f"deep-{levels}-in"}))["count"] == 0


def test_a_body_over_the_limit_is_refused_before_it_is_used(tenants: Tenants) -> None:
    big = {"type": "filter", "body": {"a": {"$in": ["x" * 1000] * 2000}}}  # ~2 MB
    body = {"source_id": "src_x", "destination_id": "des_x", "rules": [big]}
    refused(tenants.a.post("/connections", json=body), 413, "PAYLOAD_TOO_LARGE")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"name": "big", "description": "'
        for _ in range(2048):
            yield b"x" * 1024
        yield b'"}'

    refused(tenants.a.post("/sources", content=chunks()), 413, "PAYLOAD_TOO_LARGE")
    refused(tenants.a.request("POST", "/sources", content=chunks()), 413, "PAYLOAD_TOO_LARGE")
    assert ok(tenants.a.get("/sources/count", params={"name": "big"})) == {"count": 0}
    description = "y" * 500_000  # under the bound: read whole
    made = ok(tenants.a.post("/sources", json={"name": "roomy", "description": description}))
    assert made["description"] == description


def connection_body(tag: str) -> dict[str, Any]:
    """A valid connection that creates its source, destination and transformation."""
    return {
        "name": tag,
        "source": {"name": f"{tag}-in"},
        "destination": {"name": f"{tag}-out", "url": "https://inline.example"},
        "rules": [{"type": "transform", "transformation": inline_code(f"{tag}-code")}],
    }


def inline_code(name: str) -> dict[str, str]:
    return {"name": name, "code": "addHandler('transform', (request) => request)"}


def spoiled(why: str, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with one fault, found only after its inline resources were read."""
    tag, rules = body["name"], body["rules"]
    if why == "bad operator":
        return {**body, "rules": [*rules, {"type": "filter", "body": {"$nope": 1}}]}
    if why == "deep filter":
        return {**body, "rules": [*rules, {"type": "filter", "body": nested_nots(300)}]}
    if why == "two transformations":
        second = {"type": "transform", "transformation": inline_code(f"{tag}-code-2")}
        return {**body, "rules": [*rules, second]}
    if why == "bad destination":
        return {**body, "destination": {"name": f"{tag}-out", "url": "ftp://nope"}}
    assert why == "taken name"
    return {**body, "name": "taken", "source": {"name": "shared-in"}}


@pytest.mark.parametrize(
    "why", ["bad operator", "deep filter", "two transformations", "bad destination", "taken name"]
)
def test_a_refused_connection_leaves_no_inline_source_destination_or_transformation(
    tenants: Tenants, why: str
) -> None:
    a = tenants.a
    tag = why.replace(" ", "-")
    if why == "taken name":  # a connection named "taken" on the source "shared-in"
        taken = connection_body("taken")
        ok(a.put("/connections", json={**taken, "source": {"name": "shared-in"}}))
    response = a.post("/connections", json=spoiled(why, connection_body(tag)))
    answered_in_shape(response)
    assert response.status_code == 422, response.text
    for path, name in [
        ("/sources", f"{tag}-in"),
        ("/destinations", f"{tag}-out"),
        ("/transformations", f"{tag}-code"),
        ("/transformations", f"{tag}-code-2"),
    ]:
        assert ok(a.get(f"{path}/count", params={"name": name})) == {"count": 0}, (path, name)
    made = ok(a.post("/connections", json=connection_body(tag)))  # valid: all of it, at once
    assert made["source"]["name"] == f"{tag}-in" and made["destination"]["name"] == f"{tag}-out"
    assert ok(a.get("/transformations/count", params={"name": f"{tag}-code"})) == {"count": 1}


def another_project_s_ids_are_not_found(tenants: Tenants, transformation_id: str) -> None:
    a, b = tenants.a, tenants.b
    connection = ok(
        a.post(
            "/connections",
            json={
                "name": "mine",
                "source": {"name": "mine-in"},
                "destination": {"name": "mine-out", "url": "https://mine.example"},
            },
        )
    )
    trigger = ok(a.post("/issue-triggers", json={"type": "delivery"}))
    ids = {
        "sources": connection["source"]["id"],
        "destinations": connection["destination"]["id"],
        "connections": connection["id"],
        "transformations": transformation_id,
        "issue-triggers": trigger["id"],
    }
    for path, resource_id in ids.items():
        for method, suffix, body in [
            ("GET", "", None),
            ("PUT", "", {"description": "theirs"}),
            ("DELETE", "", None),
            ("PUT", "/disable", None),
        ]:
            if suffix == "/disable" and path == "transformations":
                continue
            response = b.request(method, f"/{path}/{resource_id}{suffix}", json=body)
            refused(response, 404, "NOT_FOUND")
    for method, path, body in [
        ("PUT", "/transformations/run", {"transformation_id": transformation_id}),
        (
            "POST",
            "/bookmarks",
            {"webhook_id": connection["id"], "event_data_id": "r", "label": "l"},
        ),
        (
            "POST",
            "/connections",
            {"source_id": ids["sources"], "destination_id": ids["destinations"]},
        ),
        ("GET", "/requests/req_theirs", None),
        ("GET", "/events/evt_theirs", None),
        ("GET", "/attempts/att_theirs", None),
        ("GET", "/issues/iss_theirs", None),
        ("GET", "/bulk/events/retry/bch_theirs", None),
        ("GET", "/bookmarks/bmk_theirs/raw_body", None),
    ]:
        refused(b.request(method, path, json=body), 404, "NOT_FOUND")
    assert ok(a.get(f"/connections/{connection['id']}"))["description"] is None


def test_faults_that_are_not_the_input_s_are_answered_in_the_error_shape_too(
    tenants: Tenants, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broker_away(*_: Any) -> bool:
        raise KafkaException(KafkaError(KafkaError._MSG_TIMED_OUT))

    with monkeypatch.context() as patched:
        patched.setattr(ConfigLog, "put", broker_away)
        response = tenants.a.post("/sources", json={"name": "unwritten"})
    refused(response, 503, "KAFKA_UNAVAILABLE")

    def bug(*_: Any) -> list[dict[str, Any]]:
        raise RuntimeError("a bug")

    with monkeypatch.context() as patched:
        patched.setattr(Resources, "matching", bug)
        response = tenants.a.get("/sources")
    refused(response, 500, "INTERNAL_ERROR")


def test_the_document_declares_the_413_of_every_operation_with_a_body(tenants: Tenants) -> None:
    document = tenants.a.client.get("/2024-03-01/openapi.json").json()
    with_bodies = [
        (path, method, operation["responses"])
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and "requestBody" in operation
    ]
    assert with_bodies
    assert [(path, method) for path, method, answers in with_bodies if "413" not in answers] == []
