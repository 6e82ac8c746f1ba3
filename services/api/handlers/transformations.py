"""What a transformation does beyond its configuration (``handlers/resources.py``):
a test run on a sample request, and the list of its runs on real ones."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from hookhouse.api import shapes
from hookhouse.api.context import Context
from hookhouse.api.endpoint import route
from hookhouse.api.fields import ApiError, checked, json_body
from hookhouse.api.handlers import rows
from hookhouse.api.models.transformations import TransformationRun

BY_TRANSFORMATION = {"transformation_id": "transformation_id"}


async def run(ctx: Context, request: Request, project_id: str) -> Response:
    """Test code (given, or a saved transformation's) on a sample request."""
    body = checked(TransformationRun, await json_body(request))
    if body.transformation_id:
        saved = ctx.resources.owned("transformation", project_id, body.transformation_id)
        code, env = saved["code"], {**(saved.get("env") or {}), **(body.env or {})}
    else:
        code, env = str(body.code), body.env or {}
    message = body.sample()
    outcome = await ctx.javascript.run(project_id, code, env, message)
    console = shapes.console_lines(outcome.logs)
    return JSONResponse(
        {
            "request": outcome.message.as_request() if outcome.message else None,
            "error": outcome.error or None,
            "console": console,
            "log_level": shapes.log_level(console, outcome.message is None),
        }
    )


async def executions(ctx: Context, request: Request, project_id: str) -> Response:
    return await rows.listing(
        ctx,
        request,
        project_id,
        "transformation_executions",
        shapes.transformation_execution,
        BY_TRANSFORMATION,
    )


async def execution(ctx: Context, request: Request, project_id: str) -> Response:
    """One execution of the transformation in the path."""
    row = await ctx.store.found("transformation_executions", project_id, request.path_params["id"])
    if row["transformation_id"] != request.path_params["transformation_id"]:
        raise ApiError(
            404, "NOT_FOUND", f"No execution with id {row['id']} of this transformation."
        )
    return JSONResponse(shapes.transformation_execution(row))


def routes(ctx: Context) -> list[BaseRoute]:
    """Before the resources' routes, whose ``/transformations/{id}`` would take "run"."""
    return [
        route(ctx, "PUT", "/transformations/run", run),
        route(ctx, "GET", "/transformations/{transformation_id}/executions", executions),
        route(ctx, "GET", "/transformations/{transformation_id}/executions/{id}", execution),
    ]
