"""The materialized view of the configuration log (DESIGN section 3).

Pure state: :class:`ConfigState` applies config records in log order and answers the
lookups the services need.  Kafka lives in ``configlog.py``.

Names are unique (per project; a connection's per source, as in Hookdeck).  Two API
replicas may append the same name at once; every reader keeps the one earlier in the
log and refuses the other, so all replicas agree.  The writer of a refused record sees
that its record is not what the state holds and repairs the log (``ConfigLog``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from hookhouse.common.domain.ids import new_id
from hookhouse.common.domain.times import iso_ms

NAMED = (
    "project",
    "source",
    "destination",
    "connection",
    "transformation",
    "issue_trigger",
    "bookmark",
)
KINDS = (
    *NAMED,
    "api_key",
    "bulk_retry",
    "issue_state",
    "notification_setting",  # per project: where issue notices go
    "issue_notice",  # per issue: the opening last notified
    "muted_event",  # automatic deliveries of these events are dropped (until retried by hand)
    "custom_domain",  # a host name ingest takes a project's requests under
)

NameScope = tuple[str, str, str, str]


def name_scope(kind: str, resource: dict[str, Any]) -> NameScope | None:
    """Where ``resource``'s name must be unique, or ``None`` for kinds without names."""
    if kind == "custom_domain":  # its host name, across every project
        host = resource.get("hostname")
        return (kind, "", "", host) if isinstance(host, str) else None
    if kind not in NAMED or not isinstance(resource.get("name"), str):
        return None
    if kind == "project":
        return (kind, "", "", resource["name"])
    within = str(resource.get("source_id", "")) if kind == "connection" else ""
    return (kind, str(resource.get("project_id")), within, resource["name"])


def record_key(kind: str, resource_id: str) -> bytes:
    return f"{kind}:{resource_id}".encode()


def new_resource(
    prefix: str, project_id: str, fields: dict[str, Any], now_ms: int
) -> dict[str, Any]:
    """A resource as stored in the config log: the fields plus id, project and times
    (created ``now_ms``)."""
    stamp = iso_ms(now_ms)
    resource_id = new_id(prefix, now_ms)
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
    # Read by the services' threads: each value is replaced whole, never changed.
    _connections_by_source: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _keys_by_hash: dict[str, dict[str, Any]] = field(default_factory=dict)
    _names: dict[NameScope, str] = field(default_factory=dict)
    # Each project's custom domains, the first created first.
    _domains_by_project: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # The writer's own: connection ids by source and by destination, so a record
    # rebuilds only the sources it touches (a full rebuild per record made replaying
    # N connections cost N²).
    _source_connections: dict[str, set[str]] = field(default_factory=dict)
    _destination_connections: dict[str, set[str]] = field(default_factory=dict)

    def apply(self, key: bytes, value: bytes | None) -> bool:
        """Apply one record of the config topic; ``value=None`` is a tombstone (delete).

        A record whose name another resource already holds is refused: False.
        """
        kind, _, resource_id = key.decode().partition(":")
        if kind not in self.resources:
            return True  # a kind this version does not know: newer writers, skip safely
        table = self.resources[kind]
        resource = None if value is None else orjson.loads(value)
        scope = None if resource is None else name_scope(kind, resource)
        if scope is not None and self._names.get(scope, resource_id) != resource_id:
            return False
        old = table.pop(resource_id, None)
        old_scope = None if old is None else name_scope(kind, old)
        if old_scope is not None and self._names.get(old_scope) == resource_id:
            del self._names[old_scope]
        if resource is not None:
            table[resource_id] = resource
            if scope is not None:
                self._names[scope] = resource_id
        if kind == "connection":
            self._connection_changed(resource_id, old, resource)
        elif kind == "destination":
            connections = self.resources["connection"]
            ids = self._destination_connections.get(resource_id, set())
            self._reindex({connections[c]["source_id"] for c in ids})
        elif kind == "custom_domain":
            self._domain_changed(resource_id, old, resource)
        elif kind == "api_key":
            if old is not None and self._keys_by_hash.get(old["key_hash"]) is old:
                del self._keys_by_hash[old["key_hash"]]
                # Another record of the same key (never made by hookhouse) takes its place.
                for other in table.values():
                    if other["key_hash"] == old["key_hash"]:
                        self._keys_by_hash[other["key_hash"]] = other
            if resource is not None:
                self._keys_by_hash[resource["key_hash"]] = resource
        return True

    def _connection_changed(
        self, connection_id: str, old: dict[str, Any] | None, new: dict[str, Any] | None
    ) -> None:
        touched = set()
        if old is not None:
            self._source_connections[old["source_id"]].discard(connection_id)
            self._destination_connections[old["destination_id"]].discard(connection_id)
            touched.add(old["source_id"])
        if new is not None:
            self._source_connections.setdefault(new["source_id"], set()).add(connection_id)
            ids = self._destination_connections.setdefault(new["destination_id"], set())
            ids.add(connection_id)
            touched.add(new["source_id"])
        self._reindex(touched)

    def _domain_changed(
        self, domain_id: str, old: dict[str, Any] | None, new: dict[str, Any] | None
    ) -> None:
        for project_id in {d["project_id"] for d in (old, new) if d is not None}:
            kept = [d for d in self.custom_domains(project_id) if d["id"] != domain_id]
            if new is not None and new["project_id"] == project_id:
                kept = sorted([*kept, new], key=lambda d: (d["created_at"], d["id"]))
            if kept:
                self._domains_by_project[project_id] = kept
            else:
                self._domains_by_project.pop(project_id, None)

    def _reindex(self, sources: set[str]) -> None:
        """Connections of ``sources`` as the router uses them, in id order: a connection
        whose destination is disabled counts as disabled itself."""
        connections, destinations = self.resources["connection"], self.resources["destination"]
        for source_id in sources:
            listed = []
            for connection_id in sorted(self._source_connections.get(source_id, ())):
                connection = connections[connection_id]
                destination = destinations.get(connection["destination_id"]) or {}
                if destination.get("disabled_at") and not connection.get("disabled_at"):
                    connection = {**connection, "disabled_at": destination["disabled_at"]}
                listed.append(connection)
            if listed:
                self._connections_by_source[source_id] = listed
            else:
                self._connections_by_source.pop(source_id, None)

    def get(self, kind: str, resource_id: str) -> dict[str, Any] | None:
        return self.resources[kind].get(resource_id)

    def connections_of(self, source_id: str) -> list[dict[str, Any]]:
        return self._connections_by_source.get(source_id, [])

    def custom_domain(self, host: str) -> dict[str, Any] | None:
        """The custom domain of host name ``host`` (as ``custom_domains.host_of`` reads it)."""
        domain_id = self._names.get(("custom_domain", "", "", host))
        return self.resources["custom_domain"].get(domain_id) if domain_id is not None else None

    def custom_domains(self, project_id: str) -> list[dict[str, Any]]:
        """The project's custom domains, the first created first."""
        return self._domains_by_project.get(project_id, [])

    def api_key(self, key: str) -> dict[str, Any] | None:
        return self._keys_by_hash.get(hash_api_key(key))

    def find(
        self, kind: str, project_id: str, name: str, source_id: str = ""
    ) -> dict[str, Any] | None:
        """The resource named ``name`` (a connection: of the source ``source_id``)."""
        scope = name_scope(kind, {"name": name, "project_id": project_id, "source_id": source_id})
        resource_id = self._names.get(scope) if scope is not None else None
        return self.resources[kind].get(resource_id) if resource_id is not None else None

    def list(self, kind: str, project_id: str) -> list[dict[str, Any]]:
        return sorted(
            (r for r in self.resources[kind].values() if r.get("project_id") == project_id),
            key=lambda r: r["id"],
        )
