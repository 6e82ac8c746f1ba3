"""Backfills (``backfill.py`` does the work): ``POST /connections/{id}/backfill`` starts
one, ``GET /connections/{id}/backfill/plan`` estimates it, and ``/bulk/backfill`` lists,
shows and cancels them as the bulk retries' paths do theirs."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from hookhouse.api import backfill, bulk, pages
from hookhouse.api.context import Context
from hookhouse.api.endpoint import route
from hookhouse.api.fields import ApiError, checked, json_body
from hookhouse.api.models.actions import BackfillInput
from hookhouse.api.resources import invalid_as_422


def connection_of(ctx: Context, request: Request, project_id: str) -> dict[str, Any]:
    return ctx.resources.owned("connection", project_id, request.path_params["id"])


async def plan(ctx: Context, request: Request, project_id: str) -> Response:
    connection = connection_of(ctx, request, project_id)
    params = request.query_params
    asked = backfill.window_of(params.get("since"), params.get("until"))
    return JSONResponse(await ctx.backfills.plan(connection, asked))


async def create(ctx: Context, request: Request, project_id: str) -> Response:
    connection = connection_of(ctx, request, project_id)
    body = checked(BackfillInput, await json_body(request))
    asked = backfill.window_of(body.since, body.until)
    return JSONResponse(backfill.shape(await ctx.backfills.create(connection, asked)))


def job_of(ctx: Context, request: Request, project_id: str) -> dict[str, Any]:
    """The project's backfill, or 404."""
    job = ctx.resources.owned(bulk.KIND, project_id, request.path_params["id"])
    if bulk.type_of(job) != backfill.TYPE:
        raise ApiError(404, "NOT_FOUND", f"No backfill with id {job['id']}.")
    return job


async def list_jobs(ctx: Context, request: Request, project_id: str) -> Response:
    query = invalid_as_422(lambda: pages.list_query(request.query_params, ("created_at",)))
    jobs = ctx.state.list(bulk.KIND, project_id)
    mine = [j for j in jobs if bulk.type_of(j) == backfill.TYPE]
    wanted = request.query_params.getlist("webhook_id")
    if wanted:
        mine = [j for j in mine if j["connection_id"] in wanted]
    return JSONResponse(pages.page(mine, query, backfill.shape))


async def get_job(ctx: Context, request: Request, project_id: str) -> Response:
    return JSONResponse(backfill.shape(job_of(ctx, request, project_id)))


async def cancel(ctx: Context, request: Request, project_id: str) -> Response:
    job = job_of(ctx, request, project_id)
    return JSONResponse(backfill.shape(await ctx.bulk.cancel(project_id, job["id"])))


def routes(ctx: Context) -> list[BaseRoute]:
    return [
        route(ctx, "GET", "/connections/{id}/backfill/plan", plan),
        route(ctx, "POST", "/connections/{id}/backfill", create),
        route(ctx, "GET", "/bulk/backfill", list_jobs),
        route(ctx, "GET", "/bulk/backfill/{id}", get_job),
        route(ctx, "POST", "/bulk/backfill/{id}/cancel", cancel),
    ]
