"""``/issues``: what is broken now in a project (``issues.py`` finds them), their
status, and the notices they send (the notifier sends ``issue.opened``,
``handlers/notifications.py``; a status set here sends ``issue.updated``)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from hookhouse.api import issues, notifications, pages
from hookhouse.api.context import Context
from hookhouse.api.endpoint import route
from hookhouse.api.fields import ApiError, checked, json_body
from hookhouse.api.models.actions import IssueUpdate
from hookhouse.api.resources import invalid_as_422
from hookhouse.common import topics
from hookhouse.common.clock import now_ms
from hookhouse.common.domain.times import iso_ms
from hookhouse.common.kafka import KafkaUnavailable

log = logging.getLogger(__name__)

QUERIES = (
    issues.DELIVERY_SQL,
    issues.FAILED_EVENTS_SQL,
    issues.TRANSFORMATION_SQL,
    issues.BACKLOG_SQL,
    issues.BLOCKED_SQL,
)


async def project_issues(ctx: Context, project_id: str) -> list[dict[str, Any]]:
    """The project's issues as they stand now."""
    rows = await asyncio.gather(
        *(asyncio.to_thread(ctx.store.run, sql, {"project": project_id}) for sql in QUERIES)
    )
    states = {r["id"]: r for r in ctx.state.list(issues.STATE, project_id)}
    triggers = ctx.state.list("issue_trigger", project_id)
    found = issues.Found(*rows)
    return issues.listed(project_id, found, states, triggers, datetime.now(UTC))


async def one_issue(ctx: Context, request: Request, project_id: str) -> dict[str, Any]:
    wanted = request.path_params["id"]
    for issue in await project_issues(ctx, project_id):
        if issue["id"] == wanted:
            return issue
    raise ApiError(404, "NOT_FOUND", f"No issue with id {wanted}.")


async def set_state(ctx: Context, issue: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    stamp = iso_ms(now_ms())
    held = ctx.state.get(issues.STATE, issue["id"]) or {
        "id": issue["id"],
        "project_id": issue["team_id"],
        "created_at": stamp,
    }
    record = {**held, **changes, "updated_at": stamp}
    await asyncio.to_thread(ctx.config.put, issues.STATE, issue["id"], record)
    return record


async def send_notice(ctx: Context, topic: str, issue: dict[str, Any], moment: str) -> None:
    """Produce the notice of ``issue`` if its project asked for ``topic``."""
    setting = ctx.state.get(notifications.KIND, issue["team_id"]) or {}
    if not notifications.wants(setting, topic):
        return
    request = notifications.notice(topic, issue, setting["source_id"], moment)
    await ctx.producer.send_to(topics.REQUESTS, request.to_json(), request.source_id)


async def list_issues(ctx: Context, request: Request, project_id: str) -> Response:
    params = request.query_params
    query = invalid_as_422(lambda: pages.list_query(params, ("updated_at", "created_at")))
    found = [i for i in await project_issues(ctx, project_id) if issues.matches(i, params)]
    return JSONResponse(pages.page(found, query, lambda issue: issue))


async def count(ctx: Context, request: Request, project_id: str) -> Response:
    found = await project_issues(ctx, project_id)
    return JSONResponse({"count": sum(1 for i in found if issues.matches(i, request.query_params))})


async def get_issue(ctx: Context, request: Request, project_id: str) -> Response:
    return JSONResponse(await one_issue(ctx, request, project_id))


async def update(ctx: Context, request: Request, project_id: str) -> Response:
    """Set the status: ACKNOWLEDGED, RESOLVED, IGNORED, or OPENED again."""
    issue = await one_issue(ctx, request, project_id)
    status = checked(IssueUpdate, await json_body(request)).status
    changed = iso_ms(now_ms())
    state = await set_state(ctx, issue, {"status": status, "status_changed_at": changed})
    # The failures are the ones just read: only the status is new.
    updated = issues.with_state(issue, state)
    if updated is not None:
        try:
            await send_notice(ctx, "issue.updated", updated, changed)
        except KafkaUnavailable as exc:
            log.warning("the issue.updated notice of %s was not sent: %s", issue["id"], exc)
    return JSONResponse(updated)


async def dismiss(ctx: Context, request: Request, project_id: str) -> Response:
    """Hide the issue until its failures happen again."""
    issue = await one_issue(ctx, request, project_id)
    dismissed = iso_ms(now_ms())
    await set_state(ctx, issue, {"dismissed_at": dismissed})
    return JSONResponse({**issue, "dismissed_at": dismissed})


def routes(ctx: Context) -> list[BaseRoute]:
    return [
        route(ctx, "GET", "/issues", list_issues),
        route(ctx, "GET", "/issues/count", count),
        route(ctx, "GET", "/issues/{id}", get_issue),
        route(ctx, "PUT", "/issues/{id}", update),
        route(ctx, "DELETE", "/issues/{id}", dismiss),
    ]
