"""The API service: configuration through the config log, queries through ClickHouse.

Writes append to the ``config`` topic and answer once this process has read them back
(DESIGN section 3).  Reads of requests, events and attempts query ClickHouse with the
caller's project in every ``WHERE``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from clickhouse_connect.driver.exceptions import ClickHouseError
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from hookhouse.api import (
    dashboard,
    issues,
    measures,
    mock,
    notifications,
    openapi,
    pages,
    shapes,
)
from hookhouse.api.bodies import BodyTooLarge, BoundedBodies, body_too_large
from hookhouse.api.bulk import KIND as BULK
from hookhouse.api.bulk import TYPES as bulk_types
from hookhouse.api.bulk import shape as bulk_shape
from hookhouse.api.bulk import type_of as bulk_type
from hookhouse.api.context import Context
from hookhouse.api.fields import ApiError, error_response, json_body
from hookhouse.api.handlers import attempts, bookmarks, events, requests, transformations
from hookhouse.api.handlers import resources as resource_handlers
from hookhouse.api.resources import invalid_as_422
from hookhouse.common import topics
from hookhouse.common.clock import now_ms
from hookhouse.common.domain.keys import presented_key
from hookhouse.common.domain.times import iso_ms
from hookhouse.common.health import Readiness, routes
from hookhouse.common.kafka import KafkaProbe, KafkaUnavailable, ensure_topics
from hookhouse.common.lag import KafkaLag
from hookhouse.common.runtime import serve_app, start
from hookhouse.common.settings import Settings, load

log = logging.getLogger(__name__)

API_VERSION = "2024-03-01"

Handler = Callable[[Request, str], Awaitable[Response]]


def build_app(settings: Settings) -> Starlette:
    ctx = Context.of(settings)
    config, resources, kinds, bulk = ctx.config, ctx.resources, ctx.kinds, ctx.bulk
    run = ctx.store.run

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await asyncio.to_thread(ensure_topics, settings)
        config.start()
        ctx.producer.start()  # on the server's loop, which its sends resolve on
        bulk.tasks.add(asyncio.create_task(bulk.resume_when_ready()))
        bulk.tasks.add(asyncio.create_task(keep_notifying()))
        yield
        for task in list(bulk.tasks):
            task.cancel()
        await asyncio.to_thread(ctx.producer.close)
        config.stop()
        ctx.javascript.close()

    def authenticated(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def wrapper(request: Request) -> Response:
            key = presented_key(request.headers.get("authorization"))
            record = config.state.api_key(key) if key else None
            if record is None:
                return error_response(
                    401,
                    "UNAUTHORIZED",
                    "A valid API key is required (Authorization: Bearer <key>).",
                )
            try:
                return await handler(request, record["project_id"])
            except ApiError as exc:
                log.info(
                    "refused %s %s: %d %s %s",
                    request.method,
                    request.url.path,
                    exc.status,
                    exc.code,
                    exc.message,
                )
                return error_response(exc.status, exc.code, exc.message)

        return wrapper

    async def project_issues(project_id: str) -> list[dict[str, Any]]:
        queries = (
            issues.DELIVERY_SQL,
            issues.FAILED_EVENTS_SQL,
            issues.TRANSFORMATION_SQL,
            issues.BACKLOG_SQL,
        )
        rows = await asyncio.gather(
            *(asyncio.to_thread(run, sql, {"project": project_id}) for sql in queries)
        )
        states = {r["id"]: r for r in config.state.list(issues.STATE, project_id)}
        triggers = config.state.list("issue_trigger", project_id)
        found = issues.Found(*rows)
        return issues.listed(project_id, found, states, triggers, datetime.now(UTC))

    async def one_issue(request: Request, project_id: str) -> dict[str, Any]:
        wanted = request.path_params["id"]
        for issue in await project_issues(project_id):
            if issue["id"] == wanted:
                return issue
        raise ApiError(404, "NOT_FOUND", f"No issue with id {wanted}.")

    async def issues_list(request: Request, project_id: str) -> Response:
        params = request.query_params
        query = invalid_as_422(lambda: pages.list_query(params, ("updated_at", "created_at")))
        found = [i for i in await project_issues(project_id) if issues.matches(i, params)]
        return JSONResponse(pages.page(found, query, lambda issue: issue))

    async def issues_count(request: Request, project_id: str) -> Response:
        found = await project_issues(project_id)
        return JSONResponse(
            {"count": sum(1 for i in found if issues.matches(i, request.query_params))}
        )

    async def issue_get(request: Request, project_id: str) -> Response:
        return JSONResponse(await one_issue(request, project_id))

    async def set_issue_state(issue: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        stamp = iso_ms(now_ms())
        held = config.state.get(issues.STATE, issue["id"]) or {
            "id": issue["id"],
            "project_id": issue["team_id"],
            "created_at": stamp,
        }
        record = {**held, **changes, "updated_at": stamp}
        await asyncio.to_thread(config.put, issues.STATE, issue["id"], record)
        return record

    async def send_notice(topic: str, issue: dict[str, Any], moment: str) -> None:
        """Produce the notice of ``issue`` if its project asked for ``topic``."""
        setting = config.state.get(notifications.KIND, issue["team_id"]) or {}
        if not notifications.wants(setting, topic):
            return
        request = notifications.notice(topic, issue, setting["source_id"], moment)
        await ctx.producer.send_to(topics.REQUESTS, request.to_json(), request.source_id)

    async def notify_opened_issues() -> None:
        """Notify, once per opening, each newly opened issue a trigger covers."""
        for setting in list(config.state.resources[notifications.KIND].values()):
            if not notifications.wants(setting, "issue.opened"):
                continue
            project_id = setting["project_id"]
            triggers = config.state.list("issue_trigger", project_id)
            for issue in await project_issues(project_id):
                sent = config.state.get(notifications.SENT, issue["id"])
                if notifications.due(issue, sent) and notifications.covered(issue, triggers):
                    await send_notice("issue.opened", issue, issue["opened_at"])
                    mark = {
                        "id": issue["id"],
                        "project_id": project_id,
                        "notified_for": issue["opened_at"],
                    }
                    await asyncio.to_thread(config.put, notifications.SENT, issue["id"], mark)

    async def keep_notifying() -> None:
        while True:
            await asyncio.sleep(settings.issue_notify_interval_seconds)
            try:
                await notify_opened_issues()
            except (ApiError, ClickHouseError, KafkaUnavailable) as exc:
                log.warning("issue notifications wait for the next round: %s", exc)
            except Exception:  # the loop must outlive one bad round, and say why
                log.exception("issue notifications failed this round")

    async def put_notifications(request: Request, project_id: str) -> Response:
        data = await json_body(request)
        source_id = data.get("source_id")
        source = config.state.get("source", source_id) if isinstance(source_id, str) else None
        if source is not None and source["project_id"] != project_id:
            source = None
        fields = notifications.setting_fields(data, project_id, source)
        await asyncio.to_thread(config.put, notifications.KIND, project_id, fields)
        return JSONResponse(notifications.shape(fields))

    async def get_notifications(_: Request, project_id: str) -> Response:
        return JSONResponse(notifications.shape(config.state.get(notifications.KIND, project_id)))

    async def issue_update(request: Request, project_id: str) -> Response:
        """Set the status: ACKNOWLEDGED, RESOLVED, IGNORED, or OPENED again."""
        issue = await one_issue(request, project_id)
        status = (await json_body(request)).get("status")
        if status not in issues.STATUSES:
            raise ApiError(
                422,
                "UNPROCESSABLE_ENTITY",
                f"'status' must be one of {', '.join(issues.STATUSES)}.",
            )
        changed = iso_ms(now_ms())
        state = await set_issue_state(issue, {"status": status, "status_changed_at": changed})
        # The failures are the ones just read: only the status is new.
        updated = issues.with_state(issue, state)
        if updated is not None:
            try:
                await send_notice("issue.updated", updated, changed)
            except KafkaUnavailable as exc:
                log.warning("the issue.updated notice of %s was not sent: %s", issue["id"], exc)
        return JSONResponse(updated)

    async def issue_dismiss(request: Request, project_id: str) -> Response:
        """Hide the issue until its failures happen again."""
        issue = await one_issue(request, project_id)
        dismissed = iso_ms(now_ms())
        await set_issue_state(issue, {"dismissed_at": dismissed})
        return JSONResponse({**issue, "dismissed_at": dismissed})

    def metrics_of(kind: str) -> Handler:
        async def handler(request: Request, project_id: str) -> Response:
            now = datetime.now(UTC)
            sql, parameters, measured, split = invalid_as_422(
                lambda: measures.aggregation(kind, project_id, request.query_params, now)
            )
            rows = await asyncio.to_thread(run, sql, parameters)
            return JSONResponse(measures.shaped(rows, measured, split))

        return handler

    async def queue_depth(_: Request, project_id: str) -> Response:
        """Events waiting for delivery now, per destination, and how long the oldest has."""
        rows = await asyncio.to_thread(run, measures.QUEUE_DEPTH, {"project": project_id})
        now = datetime.now(UTC)
        return JSONResponse(
            [
                {
                    "destination_id": row["destination_id"],
                    "depth": row["depth"],
                    "oldest_at": shapes.iso(row["oldest"]),
                    "max_age_seconds": max(
                        0, round((now - row["oldest"].replace(tzinfo=UTC)).total_seconds())
                    ),
                }
                for row in rows
            ]
        )

    def bulk_routes(name: str) -> list[Route]:
        """``/bulk/<name>/retry…``: plan, list, create, progress, cancel of one type."""
        kind = bulk_types[name]

        async def plan(request: Request, project_id: str) -> Response:
            params = request.query_params
            query = {k: (v[0] if len(v) == 1 else v) for k in params for v in [params.getlist(k)]}
            return JSONResponse(await bulk.plan(kind, project_id, query))

        async def create(request: Request, project_id: str) -> Response:
            query = (await json_body(request)).get("query")
            return JSONResponse(bulk_shape(await bulk.create(kind, project_id, query)))

        def job_of(request: Request, project_id: str) -> dict[str, Any]:
            job = resources.owned(BULK, project_id, request.path_params["id"])
            if bulk_type(job) != kind:
                raise ApiError(404, "NOT_FOUND", f"No bulk retry of {name} with id {job['id']}.")
            return job

        async def list_(request: Request, project_id: str) -> Response:
            query = invalid_as_422(lambda: pages.list_query(request.query_params, ("created_at",)))
            jobs = config.state.list(BULK, project_id)
            mine = [j for j in jobs if bulk_type(j) == kind]
            return JSONResponse(pages.page(mine, query, bulk_shape))

        async def get(request: Request, project_id: str) -> Response:
            return JSONResponse(bulk_shape(job_of(request, project_id)))

        async def cancel(request: Request, project_id: str) -> Response:
            job = job_of(request, project_id)
            return JSONResponse(bulk_shape(await bulk.cancel(project_id, job["id"])))

        base = f"/bulk/{name}/retry"
        return [
            Route(f"{base}/plan", authenticated(plan), methods=["GET"]),
            Route(base, authenticated(list_), methods=["GET"]),
            Route(base, authenticated(create), methods=["POST"]),
            Route(f"{base}/{{id}}", authenticated(get), methods=["GET"]),
            Route(f"{base}/{{id}}/cancel", authenticated(cancel), methods=["POST"]),
        ]

    readiness = Readiness(
        {"kafka": KafkaProbe(settings), "clickhouse": ctx.store.ok, "config": lambda: config.ready}
    )
    described = openapi.document(list(kinds.values()), API_VERSION)
    kafka_gauges = CollectorRegistry(auto_describe=True)
    kafka_gauges.register(KafkaLag(settings))

    async def openapi_json(_: Request) -> Response:
        return JSONResponse(described)

    versioned = [
        Route("/openapi.json", openapi_json, methods=["GET"]),
        *transformations.routes(ctx),  # before the resources': /transformations/{id}
        *requests.routes(ctx),
        *bookmarks.routes(ctx),
        *events.routes(ctx),
        *(
            Route(f"/metrics/{kind}", authenticated(metrics_of(kind)), methods=["GET"])
            for kind in measures.MEASURES
        ),
        Route("/metrics/queue-depth", authenticated(queue_depth), methods=["GET"]),
        Route("/notifications/webhooks", authenticated(put_notifications), methods=["PUT"]),
        Route("/notifications/webhooks", authenticated(get_notifications), methods=["GET"]),
        Route("/issues", authenticated(issues_list), methods=["GET"]),
        Route("/issues/count", authenticated(issues_count), methods=["GET"]),
        Route("/issues/{id}", authenticated(issue_get), methods=["GET"]),
        Route("/issues/{id}", authenticated(issue_update), methods=["PUT"]),
        Route("/issues/{id}", authenticated(issue_dismiss), methods=["DELETE"]),
        *(route for name in bulk_types for route in bulk_routes(name)),
        *attempts.routes(ctx),
        *resource_handlers.routes(ctx),
    ]
    return Starlette(
        routes=[
            *routes(readiness, kafka_gauges),
            Mount(f"/{API_VERSION}", routes=versioned),
            *dashboard.routes(),
            Route(  # "/mock" and anything under it ("/mock/{path}" would redirect "/mock")
                "/mock{path:path}", mock.MockDestination(), methods=mock.METHODS
            ),
        ],
        lifespan=lifespan,
        middleware=[Middleware(BoundedBodies, limit=settings.api_max_body_bytes)],
        exception_handlers={
            404: no_route,
            405: no_route,
            BodyTooLarge: body_too_large,
            Exception: internal_error,
        },
    )


async def internal_error(request: Request, exc: Exception) -> Response:
    """A fault of the API's own, answered in its error shape rather than plain text
    (Starlette then raises it on, and the server logs its traceback)."""
    log.error("%s %s failed: %r", request.method, request.url.path, exc)
    return error_response(
        500, "INTERNAL_ERROR", "The API failed to answer this request; its log says why."
    )


async def no_route(request: Request, exc: Exception) -> Response:
    """Paths and methods the API does not have answer in its error shape too."""
    if isinstance(exc, HTTPException) and exc.status_code == 405:
        return error_response(
            405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed on {request.url.path}."
        )
    return error_response(404, "NOT_FOUND", f"Nothing is at {request.url.path}.")


def main() -> None:
    settings = load()
    start("api", settings)
    serve_app(build_app(settings), settings, settings.api_port)
