"""First start of the local stack: a project, its admin API key, and a demo connection.

Everything is written to the config log like any API write; a second start finds the
resources by name and keeps them.  The key is kept in ``stack.env`` (mode 0600),
because only its hash is in the log.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from hookhouse.common.clock import now_ms
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.domain.config import hash_api_key, new_resource

PROJECT_NAME = "local"
DEMO_SOURCE = "demo"
DEMO_DESTINATION = "mock"


@dataclass(frozen=True)
class Bootstrapped:
    project_id: str
    api_key: str
    source_id: str


def _ensure(
    log: ConfigLog, kind: str, prefix: str, project_id: str, name: str, fields: dict[str, Any]
) -> dict[str, Any]:
    existing = log.state.find(kind, project_id, name, fields.get("source_id", ""))
    if existing is not None:
        return existing
    resource = new_resource(prefix, project_id, {"name": name, **fields}, now_ms())
    log.append(kind, resource["id"], resource)
    return resource


def project(log: ConfigLog, name: str) -> dict[str, Any]:
    """The project named ``name``, created (with its signing secret) if missing."""
    found = log.state.find("project", "", name)
    if found is None:
        found = new_resource("tm", "", {"name": name}, now_ms())
    if not found.get("signing_secret"):  # signs deliveries with HOOKDECK_SIGNATURE
        found = {**found, "signing_secret": secrets.token_urlsafe(32)}
        if not log.put("project", found["id"], found):
            return project(log, name)  # another process created it a moment ago
    return found


def new_api_key(log: ConfigLog, project_id: str, name: str = "admin") -> str:
    """A new API key of the project; only its hash is stored, so this is its one showing."""
    key = f"hh_{secrets.token_urlsafe(32)}"
    record = new_resource(
        "key", project_id, {"name": name, "key_hash": hash_api_key(key)}, now_ms()
    )
    log.append("api_key", record["id"], record)
    return key


def bootstrap(log: ConfigLog, api_url: str, known_key: str | None) -> Bootstrapped:
    """Create what is missing; ``known_key`` is the key from the previous start."""
    if not log.wait_ready(60):
        raise TimeoutError("the config log could not be read within 60 s")
    local = project(log, PROJECT_NAME)
    key = known_key
    record = log.state.api_key(key) if key else None
    if key is None or record is None or record["project_id"] != local["id"]:
        key = new_api_key(log, local["id"])
    source = _ensure(log, "source", "src", local["id"], DEMO_SOURCE, {})
    destination = _ensure(
        log, "destination", "des", local["id"], DEMO_DESTINATION, {"url": f"{api_url}/mock"}
    )
    _ensure(
        log,
        "connection",
        "web",
        local["id"],
        f"{DEMO_SOURCE}-{DEMO_DESTINATION}",
        {"source_id": source["id"], "destination_id": destination["id"], "rules": []},
    )
    return Bootstrapped(local["id"], key, source["id"])
