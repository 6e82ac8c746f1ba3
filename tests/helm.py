"""Rendering the Helm chart in deploy/helm with the Helm binary that ``make`` builds
into .hookhouse/tools/ (or a ``helm`` on PATH): no cluster is involved."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
CHART = REPO / "deploy" / "helm" / "hookhouse"
EXAMPLES = REPO / "deploy" / "helm" / "examples"
# The Kubernetes version the chart is rendered for and validated against.
KUBE_VERSION = "1.33.0"

Manifest = dict[str, Any]


def helm_binary() -> str:
    """The renderer; outside CI a missing one skips, in CI (which builds it) it fails."""
    built = REPO / ".hookhouse" / "tools" / "helm"
    found = str(built) if built.exists() else shutil.which("helm")
    if found:
        return found
    reason = "helm is missing: `make .hookhouse/tools/helm` builds it with Go"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def helm(
    *args: str | Path, values: tuple[Path, ...] = (), sets: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    options = [arg for path in values for arg in ("--values", str(path))]
    options += [arg for pair in sets for arg in ("--set", pair)]
    return subprocess.run(
        [helm_binary(), *map(str, args), *options],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        # Helm keeps no state of its own here: no repositories, no cache, no cluster.
        env={**os.environ, "HELM_CACHE_HOME": str(REPO / ".hookhouse" / "helm")},
    )


def template(
    values: tuple[Path, ...] = (), sets: tuple[str, ...] = (), release: str = "hookhouse"
) -> subprocess.CompletedProcess[str]:
    return helm(
        "template", release, CHART, "--kube-version", KUBE_VERSION, values=values, sets=sets
    )


def render(*values: Path, sets: tuple[str, ...] = (), release: str = "hookhouse") -> list[Manifest]:
    """Every object the chart makes with these values files and ``--set`` pairs."""
    done = template(values, sets, release)
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def refusal(*values: Path, sets: tuple[str, ...] = ()) -> str:
    """Helm's error for values the chart must refuse."""
    done = template(values, sets)
    assert done.returncode != 0, f"rendered what should be refused: {sets}"
    return done.stderr


def find(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    found = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind} {name}: {len(found)} found"
    return found[0]
