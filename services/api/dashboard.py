"""The web console, served by the API under ``/dashboard``.

Its pages are ES modules in ``dashboard/web/`` that the browser loads as they are (no
build step) and that talk only to the public API with the key the user signed in with.
The packages they import (Preact, htm, uPlot) come from npm, pinned in
``dashboard/package-lock.json`` and installed by ``make`` into ``dashboard/node_modules``;
only those three folders are served from it.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from hookhouse.api.fields import error_response

# Package data (pyproject.toml): a wheel installs the folder beside this module, where
# StaticFiles serves it from, as from a checkout.
HERE = Path(__file__).parent / "dashboard"
PACKAGES = ("preact", "htm", "uplot")


def installed(modules: Path) -> bool:
    return all((modules / name / "package.json").is_file() for name in PACKAGES)


async def to_index(_: Request) -> Response:
    return RedirectResponse("/dashboard/", status_code=308)


async def not_installed(modules: Path, _: Request) -> Response:
    return error_response(
        503,
        "DASHBOARD_NOT_INSTALLED",
        f"The dashboard's npm packages are missing from {modules}: run `make` "
        "(or `npm ci` in services/api/dashboard), before building a wheel too.",
    )


def routes(modules: Path = HERE / "node_modules") -> list[BaseRoute]:
    if not installed(modules):
        return [Route("/dashboard{rest:path}", partial(not_installed, modules), methods=["GET"])]
    return [
        Route("/dashboard", to_index, methods=["GET"]),
        *(
            Mount(f"/dashboard/vendor/{name}", StaticFiles(directory=modules / name))
            for name in PACKAGES
        ),
        Mount("/dashboard", StaticFiles(directory=HERE / "web", html=True)),
    ]
