"""``/notifications/webhooks``: a project's notification setting, and the notifier,
the loop that sends ``issue.opened`` (``notifications.py`` says what is sent when)."""

from __future__ import annotations

import asyncio
import logging

from clickhouse_connect.driver.exceptions import ClickHouseError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from hookhouse.api import notifications
from hookhouse.api.context import Context
from hookhouse.api.endpoint import route
from hookhouse.api.fields import ApiError, json_body
from hookhouse.api.handlers.issues import project_issues, send_notice
from hookhouse.common.kafka import KafkaUnavailable

log = logging.getLogger(__name__)


async def put_setting(ctx: Context, request: Request, project_id: str) -> Response:
    data = await json_body(request)
    source_id = data.get("source_id")
    source = ctx.state.get("source", source_id) if isinstance(source_id, str) else None
    if source is not None and source["project_id"] != project_id:
        source = None
    fields = notifications.setting_fields(data, project_id, source)
    await asyncio.to_thread(ctx.config.put, notifications.KIND, project_id, fields)
    return JSONResponse(notifications.shape(fields))


async def get_setting(ctx: Context, _: Request, project_id: str) -> Response:
    return JSONResponse(notifications.shape(ctx.state.get(notifications.KIND, project_id)))


async def notify_opened_issues(ctx: Context) -> None:
    """Notify, once per opening, each newly opened issue a trigger covers."""
    for setting in list(ctx.state.resources[notifications.KIND].values()):
        if not notifications.wants(setting, "issue.opened"):
            continue
        project_id = setting["project_id"]
        triggers = ctx.state.list("issue_trigger", project_id)
        for issue in await project_issues(ctx, project_id):
            sent = ctx.state.get(notifications.SENT, issue["id"])
            if notifications.due(issue, sent) and notifications.covered(issue, triggers):
                await send_notice(ctx, "issue.opened", issue, issue["opened_at"])
                mark = {
                    "id": issue["id"],
                    "project_id": project_id,
                    "notified_for": issue["opened_at"],
                }
                await asyncio.to_thread(ctx.config.put, notifications.SENT, issue["id"], mark)


async def keep_notifying(ctx: Context) -> None:
    """The notifier: a round every ``HOOKHOUSE_ISSUE_NOTIFY_INTERVAL_SECONDS``."""
    while True:
        await asyncio.sleep(ctx.settings.issue_notify_interval_seconds)
        try:
            await notify_opened_issues(ctx)
        except (ApiError, ClickHouseError, KafkaUnavailable) as exc:
            log.warning("issue notifications wait for the next round: %s", exc)
        except Exception:  # the loop must outlive one bad round, and say why
            log.exception("issue notifications failed this round")


def routes(ctx: Context) -> list[BaseRoute]:
    return [
        route(ctx, "PUT", "/notifications/webhooks", put_setting),
        route(ctx, "GET", "/notifications/webhooks", get_setting),
    ]
