"""Retrying what is stored: an event requeued for delivery as it is, a request (or an
ignored event's request) routed again through its connections (``replay.py``); one
at a time by hand, or a batch at a time for a bulk retry (``bulk.py``).
"""

from __future__ import annotations

import asyncio

from hookhouse.api import shapes
from hookhouse.api.fields import ApiError
from hookhouse.api.producer import Producer
from hookhouse.api.replay import Replays
from hookhouse.api.store import Row, Store, Stored, payload_of
from hookhouse.common import topics
from hookhouse.common.clock import now_ms
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.domain.records import Delivery, EventRow
from hookhouse.common.domain.routing import row_output
from hookhouse.common.domain.times import iso_ms
from hookhouse.common.kafka import KafkaUnavailable


class Retries:
    def __init__(
        self, config: ConfigLog, store: Store, producer: Producer, replays: Replays
    ) -> None:
        self.config = config
        self.store = store
        self.producer = producer
        self.replays = replays

    async def requeue(
        self, project_id: str, event: Row, trigger: str, stored: Stored | None = None
    ) -> None:
        """Deliver the event again now, whatever its status; ``stored`` is what
        :meth:`Store.stored_for` read for it, when the caller read a whole batch at once."""
        state = self.config.state
        connection = state.get("connection", event["connection_id"])
        if connection is None:
            raise ApiError(422, "CONNECTION_DELETED", "This event's connection was deleted.")
        if stored is None:
            stored = (await self.store.stored_for(project_id, [event]))[event["id"]]
        origin = stored[0]
        payload = payload_of(stored)
        received_at = shapes.iso(origin["created_at"]) if origin else None
        delivery = Delivery(
            event_id=event["id"],
            project_id=project_id,
            request_id=event["request_id"],
            source_id=event["source_id"],
            connection_id=event["connection_id"],
            destination_id=event["destination_id"],
            created_at=shapes.iso(event["created_at"]) or iso_ms(now_ms()),
            received_at=received_at or iso_ms(now_ms()),
            method=payload["method"],
            path=payload["path"],
            query=payload["query"],
            headers=dict(payload["headers"]),
            body=payload["body"],
            attempt=event["attempts"] + 1,
            trigger=trigger,
            verified=origin["verified"] if origin else None,
        )
        queued = EventRow.of(
            delivery,
            "QUEUED",
            now_ms(),
            attempts=event["attempts"],
            last_attempt_at=shapes.iso(event["last_attempt_at"]),
            response_status=event["response_status"],
            error_code=event["error_code"],
        )
        try:
            await asyncio.gather(
                self.producer.send_to(
                    topics.DELIVERIES, delivery.to_json(), key=delivery.destination_id
                ),
                self.producer.send(row_output(queued)),
            )
        except KafkaUnavailable as exc:
            raise ApiError(503, "KAFKA_UNAVAILABLE", f"The retry was not queued: {exc}") from exc
        if state.get("muted_event", event["id"]) is not None:  # retried by hand: lift
            await asyncio.to_thread(self.config.put, "muted_event", event["id"], None)

    async def requeue_batch(
        self, project_id: str, events: list[Row], trigger: str
    ) -> list[BaseException | None]:
        """Requeue ``events``; per event, the error that stopped it, or ``None``."""
        stored = await self.store.stored_for(project_id, events)
        return await asyncio.gather(
            *(self.requeue(project_id, e, trigger, stored[e["id"]]) for e in events),
            return_exceptions=True,
        )

    async def replay_batch(
        self, project_id: str, rows: list[Row], trigger: str, one_connection: bool
    ) -> list[BaseException | None]:
        """Route ``rows`` again: requests, or (``one_connection``) ignored events, each
        through its own connection only."""
        requests = rows
        if one_connection:
            ids = [r["request_id"] for r in rows]
            stored = await self.store.rows_by_id("requests", project_id, ids)
            requests = [stored.get(r["request_id"]) or {} for r in rows]
        return await asyncio.gather(
            *(
                self.replay_one(row, request, trigger, one_connection)
                for row, request in zip(rows, requests, strict=True)
            ),
            return_exceptions=True,
        )

    async def replay_one(self, row: Row, request: Row, trigger: str, one_connection: bool) -> None:
        if not request:
            raise ApiError(409, "REQUEST_UNAVAILABLE", "The request is not stored.")
        wanted = [row["connection_id"]] if one_connection else None
        await self.replays.replay(request, wanted, trigger)
