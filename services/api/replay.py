"""Replaying a stored request through its source's connections: a request's retry, a
bookmark's trigger, and the bulk retries of requests and of ignored events.

The API routes the request itself, with the router's own function and the connections
as this process's configuration holds them, so that it can answer with the events it
made; the records go to the topics the router writes.  A replay makes new events (ids
of their own, created now, with the trigger given) and skips deduplication: retrying is
asking for the event again.  A connection that ignores the request again records a new
ignored event with its cause.  A backfill (``backfill.py``) routes a request as the
router's first pass would have instead: the same ids, and its own deduplication.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

from hookhouse.api import shapes
from hookhouse.api.fields import ApiError
from hookhouse.common.clock import now_ms
from hookhouse.common.domain.config import ConfigState
from hookhouse.common.domain.ids import new_id
from hookhouse.common.domain.records import InboundRequest
from hookhouse.common.domain.routing import (
    Output,
    Routed,
    SeenBefore,
    Transform,
    never_seen,
    outputs,
    oversized,
    route,
)
from hookhouse.common.kafka import KafkaUnavailable

OffLoop = Callable[[Callable[[], Routed]], Awaitable[Routed]]
Send = Callable[[Output], Awaitable[Any]]


def inbound(row: dict[str, Any]) -> InboundRequest:
    """A ``requests`` row of ClickHouse as the envelope ingest first produced."""
    return InboundRequest(
        id=row["id"],
        project_id=row["project_id"],
        source_id=row["source_id"],
        received_at=shapes.iso(row["created_at"]) or "",
        method=row["method"],
        path=row["path"],
        query=row["query"],
        headers=dict(row["headers"]),
        body=row["body"],
        verified=row["verified"],
    )


class Replays:
    def __init__(
        self, state: ConfigState, transform: Transform, off_loop: OffLoop, send: Send
    ) -> None:
        self.state = state
        self.transform = transform
        self.off_loop = off_loop  # where route() runs: transformations need V8's thread
        self.send = send

    def connections(
        self, row: dict[str, Any], connection_ids: Sequence[str] | None
    ) -> list[dict[str, Any]]:
        """The connections a replay of ``row`` goes through: all of its source's, or
        those of ``connection_ids`` (each must be one of them)."""
        connections = self.state.connections_of(row["source_id"])
        if connection_ids is not None:
            wanted = set(connection_ids)
            unknown = sorted(wanted - {c["id"] for c in connections})
            if unknown:
                raise ApiError(
                    422,
                    "UNPROCESSABLE_ENTITY",
                    f"Not connections of this request's source: {', '.join(unknown)}.",
                )
            connections = [c for c in connections if c["id"] in wanted]
        if not connections:
            raise ApiError(
                422, "NO_CONNECTION", "This request's source has no connection to retry it on."
            )
        return connections

    async def replay(
        self,
        row: dict[str, Any],
        connection_ids: Sequence[str] | None,
        trigger: str,
        seen_before: SeenBefore | None = None,
    ) -> Routed:
        """Route ``row`` again, produce what that causes, and return it once acked.

        With ``seen_before`` (a backfill's deduplication) it is routed as the router's
        first pass would have: the ids of that pass, created when it was received."""
        connections = self.connections(row, connection_ids)
        now = now_ms()
        request = inbound(row)
        tag = "" if seen_before is not None else new_id("rpl", now)
        routed = await self.off_loop(
            lambda: route(
                request,
                connections,
                self.transform,
                seen_before or never_seen,
                replay=tag,
                trigger=trigger,
                now_ms=now,
            )
        )
        routed.request = replace(
            routed.request,
            events_count=row["events_count"] + len(routed.events),
            ignored_count=row.get("ignored_count", 0) + len(routed.ignored),
        )
        made = outputs(routed)
        problem = oversized(made)
        if problem is not None:
            raise ApiError(422, "RECORD_TOO_LARGE", f"The retry was not queued: {problem}.")
        try:
            await asyncio.gather(*(self.send(out) for out in made))
        except KafkaUnavailable as exc:
            raise ApiError(503, "KAFKA_UNAVAILABLE", f"The retry was not queued: {exc}") from exc
        return routed
