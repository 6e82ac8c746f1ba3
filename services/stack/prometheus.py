"""A Prometheus server for the local stack (``hookhouse up --prometheus``).

It runs Debian's ``prometheus`` binary (``make`` unpacks the package into
``.hookhouse/tools/``; one on PATH does too) with ``deploy/prometheus/prometheus.yml``
and its alerts, the scrape targets rewritten to this stack's host and ports, its data
in ``$HOOKHOUSE_HOME/prometheus``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from hookhouse.common.settings import Settings
from hookhouse.stack.kafka_broker import REPO
from hookhouse.stack.workers import Slot, slots

DEPLOY = REPO / "deploy" / "prometheus"
TOOLS = REPO / ".hookhouse" / "tools"


def binary(name: str) -> str | None:
    """``prometheus`` or ``promtool``: the unpacked one, else one on PATH."""
    unpacked = TOOLS / name
    return str(unpacked) if unpacked.exists() else shutil.which(name)


def config(settings: Settings, services: tuple[str, ...]) -> dict[str, Any]:
    """The deployed scrape config with the stack's own targets: every process of each
    service (``--workers``), labelled with the service."""
    made: dict[str, Any] = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    (job,) = made["scrape_configs"]
    processes = slots(services, settings.workers)
    job["static_configs"] = [
        {
            "targets": [
                f"{settings.host}:{metrics_port(settings, slot)}"
                for slot in processes
                if slot.service == name
            ],
            "labels": {"service": name},
        }
        for name in services
    ]
    return made


def metrics_port(settings: Settings, slot: Slot) -> int:
    """Where a process serves /metrics: its port, or ingest's metrics port (ingest's
    own port faces providers)."""
    port: int = getattr(settings, f"{slot.service}_metrics_port", None) or slot.port(settings)
    return port


def command(settings: Settings, home: Path, services: tuple[str, ...]) -> list[str] | None:
    """The server's command line, with its files written; ``None`` without the binary."""
    server = binary("prometheus")
    if server is None:
        return None
    folder = home / "prometheus"
    folder.mkdir(parents=True, exist_ok=True)
    scrape = yaml.safe_dump(config(settings, services), sort_keys=False)
    (folder / "prometheus.yml").write_text(scrape)
    shutil.copyfile(DEPLOY / "alerts.yml", folder / "alerts.yml")
    return [
        server,
        f"--config.file={folder / 'prometheus.yml'}",
        f"--storage.tsdb.path={folder / 'data'}",
        f"--web.listen-address={settings.host}:{settings.prometheus_port}",
        "--storage.tsdb.retention.time=7d",
    ]
