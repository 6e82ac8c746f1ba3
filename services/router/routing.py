"""The router's decision, as a pure function over plain data.

``route(request, connections)`` returns what one inbound request causes: one event per
enabled connection of its source (a delivery to push, or HOLD for a paused
connection) and the request's own record.  No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hookhouse.common.clock import now_ms
from hookhouse.common.ids import derived_id
from hookhouse.common.records import Delivery, EventRow, InboundRequest, RequestRow


@dataclass
class Routed:
    request: RequestRow
    deliveries: list[Delivery]
    events: list[EventRow]


def route(request: InboundRequest, connections: list[dict[str, Any]]) -> Routed:
    deliveries: list[Delivery] = []
    events: list[EventRow] = []
    version = now_ms()
    created_at = request.received_at
    for connection in connections:
        if connection.get("disabled_at"):
            continue
        event_id = derived_id("evt", request.id, connection["id"])
        paused = bool(connection.get("paused_at"))
        events.append(
            EventRow(
                id=event_id,
                project_id=request.project_id,
                request_id=request.id,
                source_id=request.source_id,
                connection_id=connection["id"],
                destination_id=connection["destination_id"],
                created_at=created_at,
                status="HOLD" if paused else "QUEUED",
                attempts=0,
                last_attempt_at=None,
                response_status=None,
                error_code="",
                version=version,
            )
        )
        if paused:
            continue
        deliveries.append(
            Delivery(
                event_id=event_id,
                project_id=request.project_id,
                request_id=request.id,
                source_id=request.source_id,
                connection_id=connection["id"],
                destination_id=connection["destination_id"],
                created_at=created_at,
                received_at=request.received_at,
                method=request.method,
                path=request.path,
                query=request.query,
                headers=request.headers,
                body=request.body,
                verified=request.verified,
            )
        )
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
        body_size=len(request.body) * 3 // 4 - request.body[-2:].count("="),
        verified=request.verified,
        rejection_cause="" if events else "NO_CONNECTION",
        events_count=len(events),
        version=version,
    )
    return Routed(request_row, deliveries, events)
