"""The router's decision, as a pure function over plain data.

``route(request, connections, ...)`` returns what one inbound request causes, for each
connection of its source, applying the connection's rules the way Hookdeck does:
transformations and filters in the order the rules list them, then deduplication, then
delay, then pause.  A connection that keeps the request yields an event and a delivery
(to push, or to hold while the connection is paused: status HOLD); one that does not
yields an ignored event with its cause (DISABLED, FILTERED, TRANSFORMATION_FAILED,
DUPLICATE).  The request's own record
counts both.  The JavaScript runtime and the deduplication memory are passed in; no I/O
happens here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from hookhouse.common.domain import topics
from hookhouse.common.domain.config import ConfigState
from hookhouse.common.domain.filters import MISSING, InvalidFilter, compile_filter, resolve
from hookhouse.common.domain.ids import derived_id
from hookhouse.common.domain.limits import DEAD_LETTERED_MAX_BYTES, base64_bytes
from hookhouse.common.domain.message import Message, Transformed
from hookhouse.common.domain.ordering import key_of, readable, sent_to
from hookhouse.common.domain.records import (
    Delivery,
    EventPayloadRow,
    EventRow,
    IgnoredEventRow,
    InboundRequest,
    RequestRow,
    Row,
    TransformationExecutionRow,
    b64,
)
from hookhouse.common.domain.schemas import request_max_bytes
from hookhouse.common.domain.times import iso_ms

Transform = Callable[[dict[str, Any], Message], Transformed]  # (rule, message)
# (project id, code, env, message): the project's own V8 context runs the code
RunCode = Callable[[str, str, dict[str, str], Message], Transformed]
SeenBefore = Callable[[str, str, int], bool]  # (connection id, key, window ms)


@dataclass
class Routed:
    request: RequestRow
    deliveries: list[Delivery]
    events: list[EventRow]
    ignored: list[IgnoredEventRow] = field(default_factory=list)
    held: list[Delivery] = field(default_factory=list)  # of paused connections
    executions: list[TransformationExecutionRow] = field(default_factory=list)
    payloads: list[EventPayloadRow] = field(default_factory=list)  # of transformed events


class _Ignore(Exception):
    def __init__(self, cause: str, meta: dict[str, Any] | None = None) -> None:
        super().__init__(cause)
        self.cause = cause
        self.meta = meta or {}


# Outcomes run ahead of routing, by (id of the message they ran on, transformation id).
Prepared = dict[tuple[int, str], Transformed]


def transformer(
    state: ConfigState,
    run: RunCode,
    observe: Callable[[Transformed, float], None] = lambda outcome, seconds: None,
    prepared: Prepared | None = None,
) -> Transform:
    """The ``transform`` for :func:`route`: a rule's saved transformation, run by ``run``
    (its project, code, environment, message; the caller times it, see
    ``common/transformations.py``'s ``timed``).  An outcome in ``prepared`` for the same
    message and transformation is used as is, and ``observe`` sees it with its seconds."""

    def transform(rule: dict[str, Any], message: Message) -> Transformed:
        wanted = rule.get("transformation_id")
        transformation = state.get("transformation", wanted) if wanted else None
        if transformation is None:
            return Transformed(None, f"transformation {wanted!r} does not exist")
        ready = prepared.get((id(message), str(wanted))) if prepared else None
        if ready is not None:
            observe(ready, ready.duration_ms / 1000)
            return ready
        return run(
            str(transformation.get("project_id") or ""),
            transformation["code"],
            transformation.get("env") or {},
            message,
        )

    return transform


@dataclass(frozen=True)
class Output:
    """One record to produce: ``topic`` is the topic's unprefixed name."""

    topic: str
    value: bytes
    key: str
    headers: list[tuple[str, str | bytes | None]] | None = None


def row_output(row: Row) -> Output:
    """A row for ClickHouse, on its way through the ``records`` topic."""
    return Output(topics.RECORDS, orjson.dumps(row), row.id, [("kind", row.kind)])


def outputs(routed: Routed) -> list[Output]:
    """Every record ``routed`` produces: deliveries to push (ordered ones to their
    lane, ``ordering.sent_to``), deliveries held by paused connections, and the rows for
    ClickHouse (the request's own row last)."""
    sent = []
    for delivery in routed.deliveries:
        topic, key = sent_to(delivery)
        sent.append(Output(topic, delivery.to_json(), key))
    sent += [Output(topics.HELD, d.to_json(), d.connection_id) for d in routed.held]
    rows: list[Row] = [
        *routed.events,
        *routed.payloads,
        *routed.ignored,
        *routed.executions,
        routed.request,
    ]
    sent += [row_output(row) for row in rows]
    return sent


def oversized(made: list[Output]) -> str | None:
    """What is wrong when one of ``made`` is too large to be dead-lettered later
    (``common/domain/limits.py``); ``None`` when all fit."""
    for out in made:
        size = len(out.value) + len(out.key)
        if size > DEAD_LETTERED_MAX_BYTES:
            return (
                f"the request would make a {out.topic} record of {size} bytes; records "
                f"made from a request can be {DEAD_LETTERED_MAX_BYTES} at most"
            )
    return None


def payload_bytes(message: Message) -> int:
    """How much JSON ``message`` takes in a delivery or a row (body in base64)."""
    return (
        base64_bytes(len(message.body))
        + len(orjson.dumps(message.headers))
        + len(orjson.dumps(message.path))
        + len(orjson.dumps(message.query))
    )


# A transformation's error as kept (in its execution row and its ignored event's meta,
# escaped twice): code can throw a string as large as its output limit.
ERROR_MAX = 8_000


def bounded(outcome: Transformed) -> Transformed:
    """A transformation's outcome, failed when what it made would not fit a record, and
    its error cut to ``ERROR_MAX`` characters."""
    if len(outcome.error) > ERROR_MAX:
        outcome = replace(outcome, error=outcome.error[:ERROR_MAX] + "…")
    if outcome.message is None:
        return outcome
    size, room = payload_bytes(outcome.message), request_max_bytes()
    if size <= room:
        return outcome
    return replace(
        outcome,
        message=None,
        error=f"the transformed request takes {size} bytes as a record; the limit is {room}",
    )


def as_received(request: InboundRequest) -> Message:
    return Message(request.headers, request.body_bytes, request.path, request.query)


def first_transformations(connections: list[dict[str, Any]]) -> set[str]:
    """The transformations that would see a request as received: each enabled
    connection's first transform rule (a filter before it may still drop the request)."""
    found = set()
    for connection in connections:
        if connection.get("disabled_at"):
            continue
        for rule in connection.get("rules") or []:
            if rule.get("type") == "transform":
                found.add(str(rule.get("transformation_id")))
                break
    return found


def _no_transform(rule: dict[str, Any], message: Message) -> Transformed:
    return Transformed(None, "transformations are not available in this process")


def never_seen(connection_id: str, key: str, window_ms: int) -> bool:
    return False


_FILTERS: dict[tuple[int, str], tuple[dict[str, Any], Callable[[Any], bool]]] = {}


def _compiled(rule: dict[str, Any], part: str) -> Callable[[Any], bool]:
    """A filter compiles once per rule object: the config state replaces a connection's
    dict when it changes, so a changed rule is a new object (and a new entry).

    A stored filter that no longer compiles (written before a limit the API now
    enforces, such as the filter depth) matches nothing: its events are FILTERED, and
    no request is dead-lettered for a connection's fault."""
    entry = _FILTERS.get((id(rule), part))
    if entry is None or entry[0] is not rule:
        if len(_FILTERS) > 10_000:
            _FILTERS.clear()
        try:
            predicate = compile_filter(rule[part])
        except InvalidFilter:
            predicate = _matches_nothing
        entry = _FILTERS[(id(rule), part)] = (rule, predicate)
    return entry[1]


def _matches_nothing(_document: Any) -> bool:
    return False


def passes(rule: dict[str, Any], message: Message) -> bool:
    """Does ``message`` pass a filter rule (every part it names must match)?"""
    for name in FILTERED_PARTS:
        if name in rule and not _compiled(rule, name)(_part(message, name)):
            return False
    return True


FILTERED_PARTS = ("body", "headers", "query", "path")


def _part(message: Message, name: str) -> Any:
    """The part of ``message`` a filter rule names (parsed on first use)."""
    if name == "body":
        return message.parsed_body()
    if name == "headers":
        return message.headers
    if name == "query":
        return message.parsed_query()
    return message.path


def dedup_key(rule: dict[str, Any], message: Message) -> str:
    """The whole body, or the fields the rule includes (or all but those it excludes)."""
    include, exclude = rule.get("include_fields"), rule.get("exclude_fields")
    if not include and not exclude:
        return hashlib.blake2b(message.body, digest_size=16).hexdigest()
    document = {
        "body": message.parsed_body(),
        "headers": message.headers,
        "query": message.parsed_query(),
        "path": message.path,
    }
    try:
        if include:
            chosen = {path: resolve(document, path) for path in include}
            picked = {k: v for k, v in chosen.items() if v is not MISSING}
        else:
            picked = _without(document, list(exclude or []))
        encoded = orjson.dumps(picked, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        # orjson writes at most 254 levels of nesting, and a body may hold 1,024: such
        # a request is keyed by all of it, as without fields, rather than dead-lettered.
        encoded = message.body
    return hashlib.blake2b(encoded, digest_size=16).hexdigest()


def _without(document: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    copy: Any = orjson.loads(orjson.dumps(document))
    for path in paths:
        *parents, last = path.split(".")
        holder = resolve(copy, ".".join(parents))
        if isinstance(holder, dict):
            holder.pop(last, None)
    result: dict[str, Any] = copy
    return result


def apply_rules(
    rules: list[dict[str, Any]],
    connection_id: str,
    message: Message,
    transform: Transform,
    seen_before: SeenBefore,
    runs: list[tuple[dict[str, Any], Transformed]],
) -> tuple[Message, int]:
    """The message as the destination will get it, and its delay in ms; or _Ignore.

    Each transformation run is appended to ``runs`` with its rule."""
    for rule in rules:
        kind = rule.get("type")
        if kind == "transform":
            outcome = bounded(transform(rule, message))
            runs.append((rule, outcome))
            if outcome.message is None:
                raise _Ignore(
                    "TRANSFORMATION_FAILED", {"error": outcome.error, "logs": outcome.logs}
                )
            message = outcome.message
        elif kind == "filter" and not passes(rule, message):
            raise _Ignore("FILTERED")
    delay = 0
    for rule in rules:
        kind = rule.get("type")
        if kind == "deduplicate":
            key = dedup_key(rule, message)
            if seen_before(connection_id, key, int(rule.get("window", 0))):
                raise _Ignore("DUPLICATE", {"key": key})
        elif kind == "delay":
            delay = max(delay, int(rule.get("delay", 0)))
    return message, delay


def route(
    request: InboundRequest,
    connections: list[dict[str, Any]],
    transform: Transform = _no_transform,
    seen_before: SeenBefore = never_seen,
    replay: str = "",
    trigger: str = "INITIAL",
    original: Message | None = None,
    *,
    now_ms: int,
    position: tuple[int, int] | None = None,
) -> Routed:
    """What ``request`` causes on ``connections`` at ``now_ms``; ``original`` is the
    request as received when the caller already made it (see :data:`Prepared`).

    ``position`` is the request's (partition, offset) on ``requests``, given by the
    router's first pass only: with it, a connection's ``ordering`` gives each event its
    key and this sequence (``domain/ordering.py``).  Without it (replays, backfills,
    backtests) every event is delivered without order.

    A replay (a request retried by hand or in bulk: ``replay`` is its unique tag) makes
    new events, created now, with their own ids; the router's first pass, and its
    repeats after a crash, derive the same ids from the request and the connection.
    """
    deliveries: list[Delivery] = []
    held: list[Delivery] = []
    events: list[EventRow] = []
    ignored: list[IgnoredEventRow] = []
    executions: list[TransformationExecutionRow] = []
    payloads: list[EventPayloadRow] = []
    version = now_ms
    created_at = iso_ms(version) if replay else request.received_at
    tag = (replay,) if replay else ()
    original = original or as_received(request)
    for connection in connections:
        runs: list[tuple[dict[str, Any], Transformed]] = []
        event_id = ""  # the event the runs' output became: none when the request is ignored
        try:
            if connection.get("disabled_at"):
                raise _Ignore("DISABLED")
            message, delay_ms = apply_rules(
                connection.get("rules") or [],
                connection["id"],
                original,
                transform,
                seen_before,
                runs,
            )
        except _Ignore as skip:
            ignored.append(
                IgnoredEventRow(
                    id=derived_id("ign", request.id, connection["id"], *tag),
                    project_id=request.project_id,
                    request_id=request.id,
                    source_id=request.source_id,
                    connection_id=connection["id"],
                    cause=skip.cause,
                    meta=orjson.dumps(skip.meta).decode(),
                    created_at=created_at,
                    version=version,
                )
            )
            continue
        else:
            event_id = derived_id("evt", request.id, connection["id"], *tag)
        finally:
            executions += [
                TransformationExecutionRow(
                    id=derived_id("exe", request.id, connection["id"], str(n), *tag),
                    project_id=request.project_id,
                    transformation_id=str(rule.get("transformation_id", "")),
                    connection_id=connection["id"],
                    request_id=request.id,
                    event_id=event_id,
                    status="FAILED" if outcome.message is None else "SUCCESSFUL",
                    error=outcome.error,
                    logs=orjson.dumps(outcome.logs).decode(),
                    duration_ms=outcome.duration_ms,
                    created_at=created_at,
                    version=version,
                )
                for n, (rule, outcome) in enumerate(runs)
            ]
        paused = bool(connection.get("paused_at"))
        ordering = readable(connection.get("ordering")) if position is not None else None
        key = key_of(ordering, message)
        delivery = Delivery(
            event_id=event_id,
            project_id=request.project_id,
            request_id=request.id,
            source_id=request.source_id,
            connection_id=connection["id"],
            destination_id=connection["destination_id"],
            created_at=created_at,
            received_at=request.received_at,
            method=request.method,
            path=message.path,
            query=message.query,
            headers=message.headers,
            body=request.body if message.body is original.body else b64(message.body),
            verified=request.verified,
            trigger=trigger,
            not_before=_later(created_at, delay_ms) if delay_ms else None,
            ordering_key=key,
            sequence=list(position) if key is not None and position is not None else None,
        )
        events.append(EventRow.of(delivery, "HOLD" if paused else "QUEUED", version))
        if message is not original:  # transformed: keep what this event delivers
            payloads.append(EventPayloadRow.of(delivery, version))
        # A paused connection's ordered events wait in their key's lane, behind the ones
        # ahead of them (the deliverer holds a lane while its connection is paused):
        # through ``held``, released later, they could come after newer ones.
        (held if paused and key is None else deliveries).append(delivery)
    request_row = RequestRow(
        id=request.id,
        project_id=request.project_id,
        source_id=request.source_id,
        created_at=request.received_at,
        method=request.method,
        path=request.path,
        query=request.query,
        headers=request.headers,
        body=request.body,
        body_size=len(original.body),
        verified=request.verified,
        rejection_cause="" if connections else "NO_CONNECTION",
        events_count=len(events),
        version=version,
        ignored_count=len(ignored),
    )
    return Routed(request_row, deliveries, events, ignored, held, executions, payloads)


def _later(iso: str, delay_ms: int) -> str:
    at = datetime.fromisoformat(iso.replace("Z", "+00:00")) + timedelta(milliseconds=delay_ms)
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
