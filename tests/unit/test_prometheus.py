"""The Prometheus configuration, alerts and Grafana dashboard in deploy/, checked by
promtool (from Debian's ``prometheus`` package, which ``make`` unpacks into
.hookhouse/tools/) and against the closed list of metric names in ``common/metrics.py``."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from hookhouse.common import metrics
from hookhouse.stack.prometheus import binary

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PROMETHEUS, DASHBOARD = DEPLOY / "prometheus", DEPLOY / "grafana" / "hookhouse.json"
NAME = re.compile(r"\bhookhouse_[a-z_]+\b")


def promtool(*args: str | Path) -> str:
    tool = binary("promtool")
    assert tool, "promtool is missing: `make .hookhouse/tools/promtool` unpacks Debian's"
    done = subprocess.run(
        [tool, *map(str, args)], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def dashboard_expressions() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


def test_the_scrape_config_and_its_rules_are_valid() -> None:
    assert "SUCCESS" in promtool("check", "config", "prometheus.yml")


def test_each_alert_fires_on_its_trouble_and_not_on_a_healthy_neighbour() -> None:
    assert "SUCCESS" in promtool("test", "rules", "alerts.test.yml")


def test_the_dashboard_s_queries_parse(tmp_path: Path) -> None:
    exprs = dashboard_expressions()
    rules = [{"record": f"hookhouse:panel_{n}", "expr": e} for n, e in enumerate(exprs)]
    checked = tmp_path / "dashboard-rules.yml"
    checked.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    assert "SUCCESS" in promtool("check", "rules", checked)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param((PROMETHEUS / "alerts.yml").read_text(), id="alerts"),
        pytest.param("\n".join(dashboard_expressions()), id="dashboard"),
    ],
)
def test_every_metric_named_exists_in_the_registry(text: str) -> None:
    named = set(NAME.findall(text))
    assert named, "no hookhouse metric named"
    assert named <= metrics.names(), named - metrics.names()


def test_the_alerts_cover_what_operators_asked_for() -> None:
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"][0]["rules"]
    assert {rule["alert"] for rule in rules} == {
        "HookhouseServiceDown",
        "HookhouseDeadLettersGrowing",
        "HookhouseDeadLetterQueueGrowing",
        "HookhouseConsumerLagGrowing",
        "HookhouseDeliveryErrorRate",
        "HookhouseIngestServerErrors",
        "HookhouseSinkFailing",
        "HookhouseOrderingKeyBlocked",
    }
    ingest = next(r for r in rules if r["alert"] == "HookhouseIngestServerErrors")
    assert all(outcome in ingest["expr"] for outcome in metrics.INGEST_SERVER_ERRORS)
