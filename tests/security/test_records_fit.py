"""Whatever ingest stores, every record made from it fits the broker, and so does the
dead letter of each (``services/common/domain/limits.py``); and whatever ingest stores, the
router can route.  Pure: records are built and measured, nothing is produced."""

from __future__ import annotations

import asyncio
import string
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hookhouse.api.fields import ApiError
from hookhouse.api.replay import Replays
from hookhouse.common.domain import limits, schemas
from hookhouse.common.domain.admission import HTTP_METHODS
from hookhouse.common.domain.config import ConfigState, record_key
from hookhouse.common.domain.message import Message, Transformed
from hookhouse.common.domain.records import DeadLetter, InboundRequest, b64
from hookhouse.common.domain.routing import Output, Routed, outputs, oversized, route
from hookhouse.common.settings import Settings
from hookhouse.router.app import InvalidMessage, decode

NOW = 1_796_515_200_000  # the time routing is given: 2026-12-06T00:00:00Z

BODY_MAX = Settings().max_body_bytes
ROOM = schemas.request_max_bytes()
# Ids at the schemas' maxLength, of the character JSON escapes longest.
WORST_ID = "\x01" * 128


def connection(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"web_{n}" if not extra.pop("worst", False) else WORST_ID,
        "destination_id": WORST_ID,
        "rules": [],
        **extra,
    }


def request(body: bytes, headers: dict[str, str], path: str = "", query: str = "") -> bytes:
    """The record ingest would store, with its other fields as large as the schema lets
    them be."""
    return InboundRequest(
        id="req_" + "\x01" * 124,
        project_id=WORST_ID,
        source_id=WORST_ID,
        received_at="2026-12-06T05:00:00.000Z",
        method="PATCH",
        path=path,
        query=query,
        headers=headers,
        body=b64(body),
        verified=True,
    ).to_json()


def every_record_fits(value: bytes) -> list[Output]:
    """Route ``value`` to two connections, one of them transforming it; each record made
    is within DEAD_LETTERED_MAX_BYTES, and the dead letter of each within RECORD_MAX."""
    inbound, original = decode(value)

    def same_but_marked(rule: dict[str, Any], message: Message) -> Transformed:
        headers = {**message.headers, "x-transformed": "1"}
        return Transformed(Message(headers, message.body, message.path, message.query))

    connections = [
        connection(1, worst=True),
        connection(2, rules=[{"type": "transform", "transformation_id": "trs_1"}]),
    ]
    made = outputs(route(inbound, connections, same_but_marked, original=original, now_ms=NOW))
    assert oversized(made) is None
    for out in [*made, Output("requests", value, WORST_ID)]:
        assert len(out.value) + len(out.key) <= limits.DEAD_LETTERED_MAX_BYTES
        letter = DeadLetter.of(
            "router", "record_too_large", ("t", 0, 0), out.key, out.value, now_ms=NOW
        )
        assert letter.value, "a record within the limit is carried whole"
        assert len(letter.to_json()) + len(out.key) <= limits.RECORD_MAX_BYTES
    return made


def test_every_schema_bounds_the_fields_a_derived_record_adds() -> None:
    assert 0 < limits.DEAD_LETTERED_MAX_BYTES - ROOM < 64 * 1024
    records = schemas.schema("records")
    with pytest.raises(limits.Unbounded, match="'path' no maxLength"):
        limits.fixed_bytes(records["$defs"]["request"], records, frozenset({"body"}))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spare=st.integers(min_value=0, max_value=4096),
    header_bytes=st.integers(min_value=0, max_value=Settings().max_header_bytes),
)
def test_the_largest_requests_ingest_stores_make_records_that_fit(
    spare: int, header_bytes: int
) -> None:
    """At the body limit and around the whole-record limit, with headers of the
    characters that JSON escapes longest."""
    headers = {"x-filler": "\x7f\x1f" * (header_bytes // 2)}
    value = request(b"\xff" * BODY_MAX, headers)
    assert len(value) <= ROOM  # the default limits fit
    every_record_fits(value)
    # Grown until the whole-record limit: ingest takes it, and it still fits.
    grown = request(b"\xff" * BODY_MAX, {**headers, "x-pad": "a" * (ROOM - len(value) - 20)})
    while len(grown) > ROOM:
        grown = grown.replace(b"aaaa", b"", 1)
    assert ROOM - len(grown) < 16
    every_record_fits(grown)
    # Past it, ingest refuses (413); a direct producer's record that large is the
    # router's dead letter, which says where the record is instead of carrying it.
    past = request(b"\xff" * BODY_MAX, {**headers, "x-pad": "a" * (ROOM - len(value) + spare)})
    assert len(past) > ROOM - 16 + spare


def test_a_request_too_large_for_its_records_is_dead_lettered_by_reference() -> None:
    value = request(b"\xff" * BODY_MAX, {"x-pad": "a" * (ROOM - 13 * 1024 * 1024)})
    assert limits.DEAD_LETTERED_MAX_BYTES < len(value) < limits.RECORD_MAX_BYTES
    inbound, original = decode(value)
    made = outputs(route(inbound, [connection(1, worst=True)], original=original, now_ms=NOW))
    problem = oversized(made)
    assert problem is not None and "records made from a request can be" in problem
    letter = DeadLetter.of("router", "record_too_large", ("t", 0, 7), "k", value, now_ms=NOW)
    assert letter.value == "" and "t/0@7" in letter.details["value_omitted"]


def test_a_dead_letter_fits_whatever_its_record_key_and_details() -> None:
    huge = b"x" * (limits.DEAD_LETTERED_MAX_BYTES + 1)
    details = {f"d{n}": "\x01" * 100_000 for n in range(40)}
    letter = DeadLetter.of(
        "deliverer", "r" * 10_000, ("t" * 300, 1, 2), b"k" * 10**6, huge, details, now_ms=NOW
    )
    assert letter.value == ""
    assert "topic retains it" in letter.details["value_omitted"]
    assert letter.key is not None
    assert len(letter.to_json()) + len(letter.key) <= limits.DEAD_LETTER_OVERHEAD_BYTES
    odd: dict[Any, Any] = {7: 2**70, "n" * 100_000: {"nested": ["x" * 100_000]}}
    letter = DeadLetter.of("sink", "r", ("t", 0, 0), None, b"v", odd, now_ms=NOW)
    assert len(letter.to_json()) <= limits.DEAD_LETTER_OVERHEAD_BYTES


def test_a_transformation_that_makes_too_large_a_request_fails_for_that_event() -> None:
    inbound, original = decode(request(b"{}", {"content-type": "application/json"}))

    def grows(rule: dict[str, Any], message: Message) -> Transformed:
        return Transformed(Message(message.headers, b"x" * ROOM, message.path, ""), logs=["hi"])

    rules = [{"type": "transform", "transformation_id": "trs_1"}]
    routed = route(inbound, [connection(1, rules=rules)], grows, original=original, now_ms=NOW)
    assert routed.deliveries == []
    assert [row.cause for row in routed.ignored] == ["TRANSFORMATION_FAILED"]
    assert "the transformed request takes" in routed.ignored[0].meta
    assert [row.status for row in routed.executions] == ["FAILED"]
    assert oversized(outputs(routed)) is None


def test_a_transformation_that_throws_a_huge_error_fails_for_that_event_only() -> None:
    inbound, original = decode(request(b"{}", {"content-type": "application/json"}))

    def throws(rule: dict[str, Any], message: Message) -> Transformed:
        return Transformed(None, '"' * 9_400_000, logs=['"' * 2_000] * 100)

    rules = [{"type": "transform", "transformation_id": "trs_1"}]
    routed = route(inbound, [connection(1, rules=rules)], throws, original=original, now_ms=NOW)
    assert [row.cause for row in routed.ignored] == ["TRANSFORMATION_FAILED"]
    assert oversized(outputs(routed)) is None


def test_a_record_nested_past_the_validators_recursion_is_invalid_not_a_crash() -> None:
    deep = b"[" * 300 + b"]" * 300
    for value in (deep, b'{"id": ' + deep + b"}", b'{"headers": {"a": ' + deep + b"}}"):
        with pytest.raises(InvalidMessage):
            decode(value)


def test_settings_refuse_limits_whose_requests_would_not_fit() -> None:
    Settings(max_body_bytes=13 * 1024 * 1024)
    with pytest.raises(ValidationError, match="lower them"):
        Settings(max_body_bytes=14 * 1024 * 1024)
    with pytest.raises(ValidationError, match="lower them"):
        Settings(
            max_body_bytes=12 * 1024 * 1024,
            max_header_bytes=600 * 1024,
            http_max_header_bytes=1024 * 1024,
        )
    with pytest.raises(ValidationError, match="http_max_header_bytes"):
        Settings(max_header_bytes=600 * 1024)


def test_the_requests_schema_takes_exactly_the_methods_ingest_stores() -> None:
    assert schemas.schema("requests")["properties"]["method"]["enum"] == list(HTTP_METHODS)


header_text = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255), max_size=40)


@settings(max_examples=200, deadline=None)
@given(
    method=st.sampled_from(HTTP_METHODS),
    path=st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255), max_size=60),
    query=st.text(alphabet=string.printable, max_size=60),
    headers=st.dictionaries(
        st.text(alphabet=string.ascii_lowercase + "-", min_size=1, max_size=20), header_text
    ),
    body=st.binary(max_size=200),
    verified=st.sampled_from([None, True]),
)
def test_whatever_ingest_stores_the_router_can_route(
    method: str, path: str, query: str, headers: dict[str, str], body: bytes, verified: bool | None
) -> None:
    """Ingest answers 2xx only for what it stored, so each must be routable: a stored
    request that the router refused would be a dead letter anyone could cause."""
    value = InboundRequest(
        id="req_0193f1c2a4b8d1e2f3a4b5c6",
        project_id="tm_1",
        source_id="src_1",
        received_at="2026-12-06T05:00:00.000Z",
        method=method,
        path=path,
        query=query,
        headers=headers,
        body=b64(body),
        verified=verified,
    ).to_json()
    inbound, original = decode(value)
    assert original.body == body
    assert (
        oversized(outputs(route(inbound, [connection(1)], original=original, now_ms=NOW))) is None
    )


def test_a_replay_that_would_make_too_large_a_record_is_refused_before_anything_is_sent() -> None:
    """A retry by hand routes again in the API; what it would produce is measured as the
    router measures it, and a record too large is a 422, not a producer error."""
    state = ConfigState()
    state.apply(
        record_key("connection", "web_1"),
        orjson.dumps({**connection(1), "project_id": "tm_1", "source_id": "src_1"}),
    )
    sent: list[Output] = []

    async def send(out: Output) -> None:
        sent.append(out)

    async def here(work: Callable[[], Routed]) -> Routed:
        return work()

    row = {
        "id": "req_1",
        "project_id": "tm_1",
        "source_id": "src_1",
        "created_at": datetime(2026, 12, 6, 5, tzinfo=UTC),
        "method": "POST",
        "path": "",
        "query": "",
        "headers": {},
        "body": b64(b"x" * limits.DEAD_LETTERED_MAX_BYTES),
        "verified": None,
        "events_count": 1,
    }
    replays = Replays(state, lambda *_: pytest.fail("nothing to transform"), here, send)
    with pytest.raises(ApiError) as refused:
        asyncio.run(replays.replay(row, None, "MANUAL"))
    assert (refused.value.status, refused.value.code) == (422, "RECORD_TOO_LARGE")
    assert sent == []
