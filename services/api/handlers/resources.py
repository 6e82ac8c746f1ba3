"""The configuration resources (sources, destinations, connections, transformations,
issue triggers, bookmarks: ``kinds.py``), each with Hookdeck's verbs: list, count,
create, upsert by name, retrieve, update, delete, and the toggles of its kind (a
connection's create and upsert may also start a backfill: ``backfill.py``).  Each
handler serves every kind; ``kind`` is bound in :func:`routes`; the writes go through
:class:`Resources`."""

from __future__ import annotations

from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from hookhouse.api import backfill, pages
from hookhouse.api.context import Context
from hookhouse.api.endpoint import route
from hookhouse.api.fields import ApiError, checked, json_body
from hookhouse.api.models.actions import BackfillInput
from hookhouse.api.models.base import Named
from hookhouse.api.resources import Kind, Staged, invalid_as_422
from hookhouse.common.clock import now_ms
from hookhouse.common.domain.backfill import Window
from hookhouse.common.domain.times import iso_ms

# The toggles' verbs (stamp field -> (verb, sets it)), and the verbs' other names
# (``archive``/``unarchive``: the paths ``@hookdeck/sdk`` 0.4.0 calls).
ACTIONS = {
    "disabled_at": (("disable", True), ("enable", False)),
    "paused_at": (("pause", True), ("unpause", False)),
}
ALIASES = {"disable": "archive", "enable": "unarchive"}


def one(ctx: Context, request: Request, project_id: str, kind: Kind) -> dict[str, Any]:
    return ctx.resources.owned(kind.name, project_id, request.path_params["id"])


async def list_resources(
    ctx: Context, request: Request, project_id: str, *, kind: Kind
) -> Response:
    query = invalid_as_422(
        lambda: pages.list_query(request.query_params, ("created_at", "updated_at"))
    )
    rows = invalid_as_422(lambda: ctx.resources.matching(kind, project_id, request.query_params))
    return JSONResponse(pages.page(rows, query, kind.shape))


async def count(ctx: Context, request: Request, project_id: str, *, kind: Kind) -> Response:
    rows = invalid_as_422(lambda: ctx.resources.matching(kind, project_id, request.query_params))
    return JSONResponse({"count": len(rows)})


def backfill_asked(kind: Kind, data: dict[str, Any]) -> Window | None:
    """A connection body's ``backfill`` window, checked before anything is written."""
    if kind.name != "connection" or data.get("backfill") is None:
        return None
    body = checked(BackfillInput, data["backfill"])
    return backfill.window_of(body.since, body.until)


async def answer(
    ctx: Context, kind: Kind, resource: dict[str, Any], asked: Window | None
) -> Response:
    """The resource; a connection with its backfill, when one was asked for."""
    if asked is None:
        return JSONResponse(kind.shape(resource))
    job = await ctx.backfills.create(resource, asked)
    return JSONResponse({**kind.shape(resource), "backfill": backfill.shape(job)})


async def create(ctx: Context, request: Request, project_id: str, *, kind: Kind) -> Response:
    staged = Staged()
    data = await json_body(request)
    fields = await kind.fields(project_id, data, None, staged)
    asked = backfill_asked(kind, data)
    made = await ctx.resources.create(kind.name, kind.prefix, project_id, fields, staged)
    return await answer(ctx, kind, made, asked)


async def upsert(ctx: Context, request: Request, project_id: str, *, kind: Kind) -> Response:
    """Create, or update the resource of that name: idempotent."""
    data = await json_body(request)
    name = checked(Named, data).name
    fields: dict[str, Any] | None = None
    staged = Staged()
    within = ""
    if kind.name == "connection":  # a connection's name is unique per source
        fields = await kind.fields(project_id, data, None, staged)
        within = fields["source_id"]
    existing = ctx.state.find(kind.name, project_id, name, within)
    asked = backfill_asked(kind, data)
    if existing is None:
        fields = fields or await kind.fields(project_id, data, None, staged)
        made = await ctx.resources.create(kind.name, kind.prefix, project_id, fields, staged)
        return await answer(ctx, kind, made, asked)
    staged = Staged()  # what the first reading staged is not written
    fields = await kind.fields(project_id, data, existing, staged)
    if asked is not None:  # refused before the connection changes, not after
        ctx.backfills.check_can_start({**existing, **fields})
    if all(existing.get(k) == v for k, v in fields.items()):
        return await answer(ctx, kind, existing, asked)  # nothing changes: no write
    changed = await ctx.resources.update(kind.name, existing, fields, staged)
    return await answer(ctx, kind, changed, asked)


async def retrieve(ctx: Context, request: Request, project_id: str, *, kind: Kind) -> Response:
    return JSONResponse(kind.shape(one(ctx, request, project_id, kind)))


async def update(ctx: Context, request: Request, project_id: str, *, kind: Kind) -> Response:
    resource = one(ctx, request, project_id, kind)
    staged = Staged()
    fields = await kind.fields(project_id, await json_body(request), resource, staged)
    changed = await ctx.resources.update(kind.name, resource, fields, staged)
    return JSONResponse(kind.shape(changed))


async def delete(ctx: Context, request: Request, project_id: str, *, kind: Kind) -> Response:
    resource = one(ctx, request, project_id, kind)
    users = kind.users(resource)
    if users:
        raise ApiError(
            422,
            "RESOURCE_IN_USE",
            f"This {kind.name} is used by {', '.join(users)}; delete or change those first.",
        )
    await ctx.resources.put(kind.name, None, resource["id"])
    return JSONResponse({"id": resource["id"]})


async def toggle(
    ctx: Context, request: Request, project_id: str, *, kind: Kind, stamp_field: str, on: bool
) -> Response:
    """Set (``on``) or clear ``stamp_field`` (``disabled_at``, ``paused_at``); setting
    it again keeps its first time."""
    resource = one(ctx, request, project_id, kind)
    stamp = (resource.get(stamp_field) or iso_ms(now_ms())) if on else None
    if resource.get(stamp_field) == stamp:
        return JSONResponse(kind.shape(resource))
    changed = await ctx.resources.update(kind.name, resource, {stamp_field: stamp})
    return JSONResponse(kind.shape(changed))


def kind_routes(ctx: Context, kind: Kind) -> list[BaseRoute]:
    base, item = f"/{kind.path}", f"/{kind.path}/{{id}}"
    made: list[BaseRoute] = [
        route(ctx, "GET", base, partial(list_resources, kind=kind)),
        route(ctx, "POST", base, partial(create, kind=kind)),
        route(ctx, "PUT", base, partial(upsert, kind=kind)),
        route(ctx, "GET", f"{base}/count", partial(count, kind=kind)),
        route(ctx, "GET", item, partial(retrieve, kind=kind)),
        route(ctx, "PUT", item, partial(update, kind=kind)),
        route(ctx, "DELETE", item, partial(delete, kind=kind)),
    ]
    for stamp_field in kind.toggles:
        for action, on in ACTIONS[stamp_field]:
            handler = partial(toggle, kind=kind, stamp_field=stamp_field, on=on)
            for name in (action, ALIASES.get(action)):
                if name:
                    made.append(route(ctx, "PUT", f"{item}/{name}", handler))
    return made


def routes(ctx: Context) -> list[BaseRoute]:
    return [r for kind in ctx.kinds.values() for r in kind_routes(ctx, kind)]
