"""``/events``: the deliveries requests made, each with the data it delivers, and the
two things a user does to one: retry it now, or mute (cancel) what is pending."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from hookhouse.api import shapes
from hookhouse.api.context import Context
from hookhouse.api.endpoint import route
from hookhouse.api.fields import ApiError
from hookhouse.api.handlers import rows
from hookhouse.common.clock import now_ms
from hookhouse.common.domain.records import EventRow
from hookhouse.common.domain.routing import row_output
from hookhouse.common.domain.times import iso_ms
from hookhouse.common.kafka import KafkaUnavailable

PENDING = ("QUEUED", "SCHEDULED", "HOLD")  # event statuses with a delivery to come


async def list_events(ctx: Context, request: Request, project_id: str) -> Response:
    return await rows.listing(ctx, request, project_id, "events", shapes.event)


async def get_event(ctx: Context, request: Request, project_id: str) -> Response:
    event = await ctx.store.found("events", project_id, request.path_params["id"])
    payload = await ctx.store.delivered_payload(project_id, event)
    return JSONResponse({**shapes.event(event), "data": shapes.event_data(payload)})


async def raw_body(ctx: Context, request: Request, project_id: str) -> Response:
    """The body as the event delivers it (transformed, if a transformation ran)."""
    event = await ctx.store.found("events", project_id, request.path_params["id"])
    return rows.body_text(await ctx.store.delivered_payload(project_id, event))


async def retry(ctx: Context, request: Request, project_id: str) -> Response:
    """Deliver the event again now (trigger MANUAL), whatever its status."""
    event = await ctx.store.found("events", project_id, request.path_params["id"])
    await ctx.retries.requeue(project_id, event, "MANUAL")
    return JSONResponse({"event": {**shapes.event(event), "status": "QUEUED"}})


async def mute(ctx: Context, request: Request, project_id: str) -> Response:
    """Cancel the event's pending deliveries: it ends FAILED with error CANCELLED.

    A mark in the config log tells the deliverer to drop the event's automatic
    deliveries (a retry by hand removes it); an event already done is left as it is.
    """
    event = await ctx.store.found("events", project_id, request.path_params["id"])
    if event["status"] not in PENDING:
        return JSONResponse(shapes.event(event))
    mark = {"id": event["id"], "project_id": project_id, "muted_at": iso_ms(now_ms())}
    await asyncio.to_thread(ctx.config.put, "muted_event", event["id"], mark)
    cancelled = {
        **event,
        "status": "FAILED",
        "error_code": "CANCELLED",
        "next_attempt_at": None,
        "version": now_ms(),
    }
    times = ("created_at", "last_attempt_at")
    fields: dict[str, Any] = {
        k: shapes.iso(cancelled[k]) if k in times else cancelled[k] for k in EventRow.__slots__
    }
    try:
        await ctx.producer.send(row_output(EventRow(**fields)))
    except KafkaUnavailable as exc:
        raise ApiError(503, "KAFKA_UNAVAILABLE", f"The event is muted: {exc}") from exc
    return JSONResponse(shapes.event(cancelled))


def routes(ctx: Context) -> list[BaseRoute]:
    return [
        route(ctx, "GET", "/events", list_events),
        route(ctx, "GET", "/events/{id}", get_event),
        route(ctx, "GET", "/events/{id}/raw_body", raw_body),
        route(ctx, "POST", "/events/{id}/retry", retry),
        route(ctx, "PUT", "/events/{id}/mute", mute),
        route(ctx, "PUT", "/events/{id}/cancel", mute),
    ]
