"""``/teams/current/custom_domains``: the host names under which ingest takes the
project's requests (``common/domain/custom_domains.py`` says what a host name may be).
A host name belongs to one project at most: the config log keeps the first claim and
refuses the others, on every replica."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from hookhouse.api import shapes
from hookhouse.api.context import Context
from hookhouse.api.endpoint import route
from hookhouse.api.fields import ApiError, json_body
from hookhouse.common.clock import now_ms
from hookhouse.common.domain.config import new_resource
from hookhouse.common.domain.custom_domains import (
    MAX_PER_PROJECT,
    InvalidHostname,
    checked_hostname,
    host_of,
)

KIND = "custom_domain"
PATH = "/teams/current/custom_domains"


def hostname_taken(hostname: str) -> ApiError:
    return ApiError(422, "HOSTNAME_TAKEN", f"The host name {hostname} is already a custom domain.")


async def list_domains(ctx: Context, _: Request, project_id: str) -> Response:
    return JSONResponse([shapes.custom_domain(d) for d in ctx.state.custom_domains(project_id)])


async def add_domain(ctx: Context, request: Request, project_id: str) -> Response:
    data = await json_body(request)
    own_host = host_of(urlsplit(ctx.settings.ingest_url).netloc)
    try:
        hostname = checked_hostname(data.get("hostname"), {own_host})
    except InvalidHostname as exc:
        raise ApiError(422, "UNPROCESSABLE_ENTITY", str(exc)) from exc
    if ctx.state.custom_domain(hostname) is not None:
        raise hostname_taken(hostname)
    if len(ctx.state.custom_domains(project_id)) >= MAX_PER_PROJECT:
        raise ApiError(
            422,
            "CUSTOM_DOMAIN_LIMIT",
            f"A project has at most {MAX_PER_PROJECT} custom domains; delete one first.",
        )
    domain = new_resource("dom", project_id, {"hostname": hostname}, now_ms())
    await ctx.resources.put(KIND, domain, taken=hostname_taken(hostname))
    return JSONResponse(shapes.custom_domain(domain))


async def delete_domain(ctx: Context, request: Request, project_id: str) -> Response:
    domain = ctx.resources.owned(KIND, project_id, request.path_params["domain_id"])
    await ctx.resources.put(KIND, None, domain["id"])
    return JSONResponse({"id": domain["id"]})


def routes(ctx: Context) -> list[BaseRoute]:
    return [
        route(ctx, "GET", PATH, list_domains),
        route(ctx, "POST", PATH, add_domain),
        route(ctx, "DELETE", f"{PATH}/{{domain_id}}", delete_domain),
    ]
