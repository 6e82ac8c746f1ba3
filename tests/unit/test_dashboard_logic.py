"""The dashboard's pure JavaScript functions, under Node's test runner."""

from __future__ import annotations

import shutil
import subprocess

from tests.stack import REPO


def test_the_dashboards_functions_pass_their_node_tests() -> None:
    node = shutil.which("node")
    assert node, "the dashboard's tests need Node.js (apt-get install nodejs)"
    modules = REPO / "services" / "api" / "dashboard" / "node_modules"
    assert modules.is_dir(), "run `make` first: it installs the dashboard's npm packages"
    ran = subprocess.run(
        [node, "--test", str(REPO / "tests" / "dashboard")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert ran.returncode == 0, ran.stdout[-4000:] + ran.stderr[-2000:]
    assert "# fail 0" in ran.stdout and "# pass 0" not in ran.stdout
