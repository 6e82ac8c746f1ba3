"""The messages that travel on hookhouse's topics, as plain data.

Each class here has a JSON Schema in ``schemas/<topic>/`` with examples; the tests
validate the examples and round-trip them through these classes.  Bodies are carried
as base64 so the exact bytes received survive every hop.

Nothing changes a record once made (``dataclasses.replace`` makes changed copies), but
the classes are not declared frozen: a frozen class's ``__init__`` sets every field
through ``object.__setattr__``, which makes each one markedly slower to build, and the
router and deliverer make several records per event.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from typing import Any, Self

import orjson

from hookhouse.common.domain.limits import DEAD_LETTERED_MAX_BYTES
from hookhouse.common.domain.times import iso_ms

REQUEST_SCHEMA_VERSION = 1
DELIVERY_SCHEMA_VERSION = 1


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


class Envelope:
    """What the messages that carry a body share: the bytes, and JSON both ways."""

    __slots__ = ()
    body: str  # base64

    @property
    def body_bytes(self) -> bytes:
        return unb64(self.body)

    def to_json(self) -> bytes:
        return orjson.dumps(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls(**data)


@dataclass(slots=True)
class InboundRequest(Envelope):
    """An HTTP request as ingest received it (topic ``requests``, key: source id)."""

    id: str
    project_id: str
    source_id: str
    received_at: str
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: str  # base64 of the exact bytes received
    verified: bool | None = None
    version: int = REQUEST_SCHEMA_VERSION


@dataclass(slots=True)
class Delivery(Envelope):
    """One event to push to one destination (topic ``deliveries``, key: destination id)."""

    event_id: str
    project_id: str
    request_id: str
    source_id: str
    connection_id: str
    destination_id: str
    created_at: str
    received_at: str
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: str  # base64
    attempt: int = 1
    trigger: str = "INITIAL"
    not_before: str | None = None
    version: int = DELIVERY_SCHEMA_VERSION
    verified: bool | None = None
    # Ordered delivery (``domain/ordering.py``): the value of the connection's ordering
    # key, and the request's [partition, offset] on ``requests``, which orders a key's
    # events; both ``None`` for an event delivered without order.
    ordering_key: str | None = None
    sequence: list[int] | None = None


# Rows for ClickHouse, carried on the ``records`` topic.  The Kafka header ``kind``
# names the table; the value is the row itself as one JSON object, so the sink can
# insert values without rebuilding them.


@dataclass(slots=True)
class RequestRow:
    id: str
    project_id: str
    source_id: str
    created_at: str
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: str  # base64
    body_size: int
    verified: bool | None
    rejection_cause: str
    events_count: int
    version: int
    ignored_count: int = 0

    kind = "request"


@dataclass(slots=True)
class EventRow:
    id: str
    project_id: str
    request_id: str
    source_id: str
    connection_id: str
    destination_id: str
    created_at: str
    status: str
    attempts: int
    last_attempt_at: str | None
    response_status: int | None
    error_code: str
    version: int
    next_attempt_at: str | None = None
    waiting_for: str = ""  # ordered delivery: the event of the same key it waits for

    kind = "event"

    @classmethod
    def of(cls, delivery: Delivery, status: str, version: int, **outcome: Any) -> EventRow:
        """The event row of ``delivery`` with ``status``; ``outcome`` sets attempts,
        last_attempt_at, response_status, error_code or next_attempt_at."""
        fields: dict[str, Any] = {
            "attempts": 0,
            "last_attempt_at": None,
            "response_status": None,
            "error_code": "",
            **outcome,
        }
        return cls(
            id=delivery.event_id,
            project_id=delivery.project_id,
            request_id=delivery.request_id,
            source_id=delivery.source_id,
            connection_id=delivery.connection_id,
            destination_id=delivery.destination_id,
            created_at=delivery.created_at,
            status=status,
            version=version,
            **fields,
        )


@dataclass(slots=True)
class AttemptRow:
    id: str
    project_id: str
    event_id: str
    request_id: str
    connection_id: str
    destination_id: str
    created_at: str
    attempt_number: int
    trigger: str
    status: str
    response_status: int | None
    error_code: str
    response_headers: dict[str, str]
    response_body: str
    duration_ms: int
    requested_url: str
    http_method: str
    # The event after this attempt: ClickHouse's events_of_attempts view writes these
    # into events, so an attempt needs no event record of its own.
    source_id: str
    event_created_at: str
    event_status: str  # SUCCESSFUL, FAILED, or QUEUED when a retry is due
    next_attempt_at: str | None  # when that retry is due
    version: int

    kind = "attempt"


@dataclass(slots=True)
class IgnoredEventRow:
    """A connection that did not turn a request into an event, and why (Hookdeck's
    ignored event): ``cause`` is FILTERED, TRANSFORMATION_FAILED, DUPLICATE or DISABLED;
    ``meta`` is a JSON object as text (for a failed transformation: the error and the
    console lines)."""

    id: str
    project_id: str
    request_id: str
    source_id: str
    connection_id: str
    cause: str
    meta: str
    created_at: str
    version: int

    kind = "ignored_event"


@dataclass(slots=True)
class TransformationExecutionRow:
    """One run of a transformation for one request and connection: its outcome, its
    error and its console lines (``logs``: a JSON array as text); ``event_id`` the event
    its output became (after the connection's later rules), "" when none was made."""

    id: str
    project_id: str
    transformation_id: str
    connection_id: str
    request_id: str
    status: str  # SUCCESSFUL or FAILED
    error: str
    logs: str
    duration_ms: int
    created_at: str
    version: int
    event_id: str = ""  # records made before it had one have none

    kind = "transformation_execution"


@dataclass(slots=True)
class EventPayloadRow:
    """What an event delivers when a transformation changed the request (``id``: the
    event id).  Without one, the event delivers its request as received."""

    id: str
    project_id: str
    request_id: str
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: str  # base64
    created_at: str
    version: int

    kind = "event_payload"

    @classmethod
    def of(cls, delivery: Delivery, version: int) -> EventPayloadRow:
        return cls(
            id=delivery.event_id,
            project_id=delivery.project_id,
            request_id=delivery.request_id,
            method=delivery.method,
            path=delivery.path,
            query=delivery.query,
            headers=delivery.headers,
            body=delivery.body,
            created_at=delivery.created_at,
            version=version,
        )


Row = (
    RequestRow
    | EventRow
    | AttemptRow
    | IgnoredEventRow
    | TransformationExecutionRow
    | EventPayloadRow
)
ROW_KINDS: dict[str, type[Row]] = {
    "request": RequestRow,
    "event": EventRow,
    "attempt": AttemptRow,
    "ignored_event": IgnoredEventRow,
    "transformation_execution": TransformationExecutionRow,
    "event_payload": EventPayloadRow,
}


@dataclass(slots=True)
class DeadLetter:
    """A record no stage could use (topic ``dlq``): where it failed, why, and the bytes."""

    stage: str
    reason: str
    topic: str
    partition: int
    offset: int
    key: str | None
    value: str  # base64 of the original value
    failed_at: str
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        stage: str,
        reason: str,
        where: tuple[str, int, int],
        key: bytes | str | None,
        value: bytes | None,
        details: dict[str, Any] | None = None,
        *,
        now_ms: int,
    ) -> DeadLetter:
        """The letter for the record at ``where`` (topic, partition, offset), failed at
        ``now_ms``.

        Whatever it is given, it fits the ``dlq`` topic (``common/domain/limits.py``): the key
        and the details' texts are cut to bounded lengths, and a value too large to
        carry is left out, the letter saying so and where the record stays."""
        topic, partition, offset = where
        text = key.decode(errors="replace") if isinstance(key, bytes) else key
        details = {
            str(name)[:_NAME_MAX]: _cut(item)
            for name, item in list((details or {}).items())[:_DETAILS_MAX]
        }
        value = value or b""
        if len(value) > DEAD_LETTERED_MAX_BYTES:
            details["value_omitted"] = (
                f"the record's {len(value)} bytes are more than a dead letter carries "
                f"({DEAD_LETTERED_MAX_BYTES}); read it at {topic}/{partition}@{offset} "
                "while the topic retains it"
            )
            value = b""
        return cls(
            stage=stage,
            reason=_cut(reason)[:_NAME_MAX],
            topic=topic[:_NAME_MAX],
            partition=partition,
            offset=offset,
            key=None if text is None else _cut(text),
            value=b64(value),
            failed_at=iso_ms(now_ms),
            details=details,
        )

    def to_json(self) -> bytes:
        return orjson.dumps(self)


# What bounds a dead letter's fields other than its value: DEAD_LETTER_OVERHEAD_BYTES
# (64 KiB) holds 8 texts of 800 characters escaped at worst, the key, and the rest.
_TEXT_MAX = 800
_DETAILS_MAX = 8
_NAME_MAX = 200


def _cut(item: Any) -> Any:
    """A detail as kept: texts cut to ``_TEXT_MAX`` characters, other values as text
    when they are not plain numbers, booleans or null."""
    if (
        item is None
        or isinstance(item, bool | float)
        or (
            isinstance(item, int) and -(2**63) <= item < 2**64  # what orjson can write
        )
    ):
        return item
    text = item if isinstance(item, str) else repr(item)
    return text if len(text) <= _TEXT_MAX else text[:_TEXT_MAX] + "…"


def as_dict(obj: Any) -> dict[str, Any]:
    result: dict[str, Any] = asdict(obj)
    return result
