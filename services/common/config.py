"""The materialized view of the configuration log (DESIGN section 3).

Pure state: :class:`ConfigState` applies config records in log order and answers the
lookups the services need.  Kafka lives in ``configlog.py``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from hookhouse.common.clock import iso_ms, now_ms
from hookhouse.common.ids import new_id

KINDS = ("project", "api_key", "source", "destination", "connection", "transformation")


def record_key(kind: str, resource_id: str) -> bytes:
    return f"{kind}:{resource_id}".encode()


def new_resource(prefix: str, project_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A resource as stored in the config log: the fields plus id, project and times."""
    stamp = iso_ms(now_ms())
    resource_id = new_id(prefix)
    return {
        **fields,
        "id": resource_id,
        "project_id": project_id or resource_id,  # a project is its own project
        "created_at": stamp,
        "updated_at": stamp,
    }


def hash_api_key(key: str) -> str:
    """API keys are stored as their SHA-256; the key itself is shown once, at creation."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass
class ConfigState:
    """Resources by kind and id, plus the indexes the hot paths use."""

    resources: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {kind: {} for kind in KINDS}
    )
    _connections_by_source: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _keys_by_hash: dict[str, dict[str, Any]] = field(default_factory=dict)

    def apply(self, key: bytes, value: bytes | None) -> None:
        """Apply one record of the config topic; ``value=None`` is a tombstone (delete)."""
        kind, _, resource_id = key.decode().partition(":")
        if kind not in self.resources:
            return  # a kind this version does not know: newer writers, skip safely
        table = self.resources[kind]
        if value is None:
            table.pop(resource_id, None)
        else:
            table[resource_id] = orjson.loads(value)
        if kind == "connection":
            self._index_connections()
        elif kind == "api_key":
            self._keys_by_hash = {k["key_hash"]: k for k in self.resources["api_key"].values()}

    def _index_connections(self) -> None:
        index: dict[str, list[dict[str, Any]]] = {}
        for connection in sorted(self.resources["connection"].values(), key=lambda c: c["id"]):
            index.setdefault(connection["source_id"], []).append(connection)
        self._connections_by_source = index

    def get(self, kind: str, resource_id: str) -> dict[str, Any] | None:
        return self.resources[kind].get(resource_id)

    def connections_of(self, source_id: str) -> list[dict[str, Any]]:
        return self._connections_by_source.get(source_id, [])

    def api_key(self, key: str) -> dict[str, Any] | None:
        return self._keys_by_hash.get(hash_api_key(key))

    def find(self, kind: str, project_id: str, name: str) -> dict[str, Any] | None:
        for resource in self.resources[kind].values():
            if resource.get("project_id") == project_id and resource.get("name") == name:
                return resource
        return None

    def list(self, kind: str, project_id: str) -> list[dict[str, Any]]:
        return sorted(
            (r for r in self.resources[kind].values() if r.get("project_id") == project_id),
            key=lambda r: r["id"],
        )
