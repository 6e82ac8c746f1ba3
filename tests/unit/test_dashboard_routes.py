"""The API serves the dashboard's pages and only its three npm packages."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.testclient import TestClient

from hookhouse.api import dashboard


def test_pages_and_packages_are_served_and_nothing_else_of_node_modules() -> None:
    client = TestClient(Starlette(routes=dashboard.routes()))
    moved = client.get("/dashboard", follow_redirects=False)
    assert moved.status_code == 308 and moved.headers["location"] == "/dashboard/"
    index = client.get("/dashboard/")
    assert index.status_code == 200 and '<script type="importmap">' in index.text
    assert client.get("/dashboard/app/main.js").status_code == 200
    for module in (
        "/dashboard/vendor/preact/dist/preact.module.js",
        "/dashboard/vendor/preact/hooks/dist/hooks.module.js",
        "/dashboard/vendor/htm/dist/htm.module.js",
        "/dashboard/vendor/uplot/dist/uPlot.esm.js",
    ):
        assert client.get(module).status_code == 200, module
        assert module.split("/vendor/")[1] in index.text
    assert client.get("/dashboard/vendor/.package-lock.json").status_code == 404
    assert client.get("/dashboard/../package.json").status_code == 404


def test_missing_packages_are_named_with_the_command_that_installs_them(tmp_path: Path) -> None:
    client = TestClient(Starlette(routes=dashboard.routes(tmp_path / "node_modules")))
    answer = client.get("/dashboard/")
    assert answer.status_code == 503
    assert answer.json()["code"] == "DASHBOARD_NOT_INSTALLED" and "make" in answer.json()["message"]
