"""An installed wheel, away from any checkout, finds what its services read at run time:
the ClickHouse migrations, the topics' schemas and the dashboard's files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from hookhouse.api.dashboard import installed
from hookhouse.common import clickhouse
from hookhouse.common.settings import Settings
from tests.stack import REPO, clean_env, isolated_settings

pytestmark = pytest.mark.integration

# What the build reads (pyproject's readme included); nothing else of the checkout.
BUILT_FROM = ("pyproject.toml", "README.md", "services", "schemas")

# Run by the installed package's interpreter: where hookhouse was imported from, and
# what its package data gave.
INSPECT = """
import json
import hookhouse
from hookhouse.api import dashboard
from hookhouse.common.domain import schemas
# Every service's module, so that a package left out of the wheel fails here.
import hookhouse.api.app, hookhouse.deliverer.service, hookhouse.ingest.app
import hookhouse.router.app, hookhouse.sink.service, hookhouse.stack.supervisor
print(json.dumps({
    "package": hookhouse.__file__,
    "schema": schemas.schema("requests"),
    "request_max_bytes": schemas.request_max_bytes(),
    "dashboard_page": (dashboard.HERE / "web" / "index.html").is_file(),
    "dashboard_packages": dashboard.installed(dashboard.HERE / "node_modules"),
}))
"""


def outside_env(**settings: str) -> dict[str, str]:
    """This environment without a PYTHONPATH that could lead back to the checkout, and
    with only the HOOKHOUSE_* ``settings`` given."""
    env = {k: v for k, v in clean_env().items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return {**env, **settings}


def run(command: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env or outside_env(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def build_wheel(tmp: Path) -> Path:
    """The wheel of a copy of the checkout, built by pyproject's own pinned backend (pip
    installs it into an isolated build environment, as ``make`` does for its install)."""
    source = tmp / "source"
    source.mkdir()
    for name in BUILT_FROM:
        if (REPO / name).is_dir():
            # services/schemas stays a link, to the copy's schemas/.
            shutil.copytree(
                REPO / name,
                source / name,
                symlinks=True,
                ignore=shutil.ignore_patterns("__pycache__"),
            )
        else:
            shutil.copy2(REPO / name, source / name)
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp / "dist", source], tmp)
    (wheel,) = (tmp / "dist").glob("hookhouse-*.whl")
    return wheel


def install(wheel: Path, venv: Path) -> Path:
    """A fresh venv holding only the wheel; its dependencies come from this interpreter's
    site-packages through a .pth file (whose paths are added, its own .pth files not
    run: an editable hookhouse installed there stays invisible)."""
    run([sys.executable, "-m", "venv", "--without-pip", venv], venv.parent)
    python = venv / "bin" / "python"
    run(
        [sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", wheel],
        venv.parent,
    )
    site = run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], venv.parent
    )
    ours = sysconfig.get_paths()
    (Path(site.strip()) / "dependencies.pth").write_text(
        "".join(f"{path}\n" for path in dict.fromkeys([ours["purelib"], ours["platlib"]]))
    )
    return venv / "bin"


def tables(settings: Settings, database: str) -> set[str]:
    ch = clickhouse.client(settings)
    try:
        found = ch.query(
            "SELECT name FROM system.tables WHERE database = {db:String}", {"db": database}
        )
        return {str(row[0]) for row in found.result_rows}
    finally:
        ch.close()


def test_an_installed_wheel_migrates_and_reads_its_schemas(
    settings: Settings, tmp_path: Path
) -> None:
    bin_dir = install(build_wheel(tmp_path), tmp_path / "venv")
    away = tmp_path / "elsewhere"  # not the checkout, so nothing can come from it
    away.mkdir()

    fresh = isolated_settings()  # a database nothing migrated yet
    migrated = run(
        [bin_dir / "hookhouse", "migrate"],
        away,
        outside_env(
            HOOKHOUSE_CLICKHOUSE_URL=fresh.clickhouse_url,
            HOOKHOUSE_CLICKHOUSE_DATABASE=fresh.clickhouse_database,
            HOOKHOUSE_HOME=str(tmp_path / "home"),
        ),
    )
    versions = [f"applied {m.version:04d}_{m.name}" for m in clickhouse.migrations()]
    assert migrated.splitlines()[: len(versions)] == versions
    # The same tables as the checkout's migrations made in the suite's database.
    made = tables(fresh, fresh.clickhouse_database)
    assert made == tables(settings, settings.clickhouse_database)
    assert {"requests", "events", "attempts", "schema_migrations"} <= made

    found = json.loads(run([bin_dir / "python", "-c", INSPECT], away))
    assert Path(found["package"]).is_relative_to(tmp_path / "venv")
    requests_schema = json.loads((REPO / "schemas" / "requests" / "v1.schema.json").read_text())
    assert found["schema"] == requests_schema
    assert found["request_max_bytes"] > 0
    assert found["dashboard_page"]
    # Its npm packages are in the wheel when they were in the checkout (after `make`).
    checkout_modules = REPO / "services" / "api" / "dashboard" / "node_modules"
    assert found["dashboard_packages"] == installed(checkout_modules)
