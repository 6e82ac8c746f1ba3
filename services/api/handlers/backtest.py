"""``POST /connections/backtest``: rules tried against a source's stored requests
before they are saved (``backtest.py`` runs it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from hookhouse.api.backtest import DEFAULT_RANGE, Backtest
from hookhouse.api.context import Context
from hookhouse.api.endpoint import route
from hookhouse.api.fields import ApiError, checked, json_body
from hookhouse.api.models.connections import BacktestInput, ConnectionInput
from hookhouse.api.models.transformations import TransformationInput
from hookhouse.api.pages import parse_time
from hookhouse.api.resources import invalid_as_422
from hookhouse.common.clock import now_ms


async def backtest(ctx: Context, request: Request, project_id: str) -> Response:
    body = checked(BacktestInput, await json_body(request))
    connection = None
    if body.connection_id:
        connection = ctx.resources.owned("connection", project_id, body.connection_id)
    source_id = body.source_id or (connection["source_id"] if connection else None)
    if source_id is None:
        raise ApiError(
            422, "UNPROCESSABLE_ENTITY", "A backtest needs a 'source_id' or a 'connection_id'."
        )
    ctx.resources.owned("source", project_id, source_id)
    given = body.rules if body.rules is not None else (connection or {}).get("rules", [])
    rules, inline = checked_rules(ctx, project_id, given)
    until = (
        time_of("until", body.until) if body.until else datetime.fromtimestamp(now_ms() / 1000, UTC)
    )
    since = time_of("since", body.since) if body.since else until - DEFAULT_RANGE
    if since > until:
        raise ApiError(422, "UNPROCESSABLE_ENTITY", "'since' must not be after 'until'.")
    test = Backtest(project_id, source_id, rules, inline, since, until, body.sample_size)
    return JSONResponse(await ctx.backtests.run(test))


def time_of(name: str, text: str) -> datetime:
    return invalid_as_422(lambda: parse_time(name, text))


def checked_rules(
    ctx: Context, project_id: str, given: Any
) -> tuple[list[dict[str, Any]], dict[str, tuple[str, dict[str, str]]]]:
    """The rules as the connection's model checks them; an inline transformation is not
    saved but named ``inline_<n>`` for the run."""
    inline: dict[str, tuple[str, dict[str, str]]] = {}
    if isinstance(given, list):
        prepared = []
        for n, rule in enumerate(given):
            if (
                isinstance(rule, dict)
                and rule.get("type") == "transform"
                and isinstance(rule.get("transformation"), dict)
            ):
                code = checked(TransformationInput, rule["transformation"])
                inline[f"inline_{n}"] = (code.code, code.env or {})
                rule = {"type": "transform", "transformation_id": f"inline_{n}"}
            prepared.append(rule)
        given = prepared

    def exists(transformation_id: str) -> bool:
        found = ctx.state.get("transformation", transformation_id)
        mine = found is not None and found["project_id"] == project_id
        return transformation_id in inline or mine

    body = checked(ConnectionInput, {"rules": given}, {"transformation_exists": exists})
    rules: list[dict[str, Any]] = cast(Any, body.rules)  # the domain's dicts, as checked
    return rules, inline


def routes(ctx: Context) -> list[BaseRoute]:
    return [route(ctx, "POST", "/connections/backtest", backtest)]
