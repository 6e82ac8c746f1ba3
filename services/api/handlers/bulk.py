"""``/bulk/{events|requests|ignored-events}/retry``: plan, list, create, progress and
cancel of each type of bulk retry (``bulk.py`` does the work).  Each handler serves
every type; ``name``, the type as its path writes it, is bound in :func:`routes`."""

from __future__ import annotations

from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from hookhouse.api import bulk, pages
from hookhouse.api.context import Context
from hookhouse.api.endpoint import route
from hookhouse.api.fields import ApiError, checked, json_body
from hookhouse.api.models.actions import BulkRetryInput
from hookhouse.api.resources import invalid_as_422


async def plan(ctx: Context, request: Request, project_id: str, *, name: str) -> Response:
    params = request.query_params
    query = {k: (v[0] if len(v) == 1 else v) for k in params for v in [params.getlist(k)]}
    return JSONResponse(await ctx.bulk.plan(bulk.TYPES[name], project_id, query))


async def create(ctx: Context, request: Request, project_id: str, *, name: str) -> Response:
    query = checked(BulkRetryInput, await json_body(request)).query
    return JSONResponse(bulk.shape(await ctx.bulk.create(bulk.TYPES[name], project_id, query)))


def job_of(ctx: Context, request: Request, project_id: str, name: str) -> dict[str, Any]:
    """The project's bulk retry of this type, or 404."""
    job = ctx.resources.owned(bulk.KIND, project_id, request.path_params["id"])
    if bulk.type_of(job) != bulk.TYPES[name]:
        raise ApiError(404, "NOT_FOUND", f"No bulk retry of {name} with id {job['id']}.")
    return job


async def list_jobs(ctx: Context, request: Request, project_id: str, *, name: str) -> Response:
    query = invalid_as_422(lambda: pages.list_query(request.query_params, ("created_at",)))
    jobs = ctx.state.list(bulk.KIND, project_id)
    mine = [j for j in jobs if bulk.type_of(j) == bulk.TYPES[name]]
    return JSONResponse(pages.page(mine, query, bulk.shape))


async def get_job(ctx: Context, request: Request, project_id: str, *, name: str) -> Response:
    return JSONResponse(bulk.shape(job_of(ctx, request, project_id, name)))


async def cancel(ctx: Context, request: Request, project_id: str, *, name: str) -> Response:
    job = job_of(ctx, request, project_id, name)
    return JSONResponse(bulk.shape(await ctx.bulk.cancel(project_id, job["id"])))


def routes(ctx: Context) -> list[BaseRoute]:
    made: list[BaseRoute] = []
    for name in bulk.TYPES:
        base = f"/bulk/{name}/retry"
        made += [
            route(ctx, "GET", f"{base}/plan", partial(plan, name=name)),
            route(ctx, "GET", base, partial(list_jobs, name=name)),
            route(ctx, "POST", base, partial(create, name=name)),
            route(ctx, "GET", f"{base}/{{id}}", partial(get_job, name=name)),
            route(ctx, "POST", f"{base}/{{id}}/cancel", partial(cancel, name=name)),
        ]
    return made
