"""The configuration view's connection and key indexes, kept up to date record by
record, always equal the ones rebuilt from scratch."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from hookhouse.common.domain.config import ConfigState, hash_api_key, record_key

IDS = st.sampled_from(["1", "2", "3", "4"])


def rebuilt(state: ConfigState, source_id: str) -> list[dict[str, Any]]:
    """What the router must see, computed from all resources (the old full rebuild)."""
    destinations = state.resources["destination"]
    found = []
    for connection in sorted(state.resources["connection"].values(), key=lambda c: c["id"]):
        if connection["source_id"] != source_id:
            continue
        destination = destinations.get(connection["destination_id"]) or {}
        if destination.get("disabled_at") and not connection.get("disabled_at"):
            connection = {**connection, "disabled_at": destination["disabled_at"]}
        found.append(connection)
    return found


connection_records = st.builds(
    lambda n, source, destination, disabled, gone: (
        "connection",
        f"web_{n}",
        None
        if gone
        else {
            "id": f"web_{n}",
            "project_id": "p",
            "source_id": f"src_{source}",
            "destination_id": f"des_{destination}",
            "disabled_at": "2026-01-01" if disabled else None,
        },
    ),
    IDS,
    IDS,
    IDS,
    st.booleans(),
    st.booleans(),
)
destination_records = st.builds(
    lambda n, disabled, gone: (
        "destination",
        f"des_{n}",
        None if gone else {"id": f"des_{n}", "project_id": "p", "disabled_at": disabled},
    ),
    IDS,
    st.sampled_from([None, "2026-02-02"]),
    st.booleans(),
)
key_records = st.builds(
    lambda n, key, gone: (
        "api_key",
        f"key_{n}",
        None if gone else {"id": f"key_{n}", "project_id": "p", "key_hash": hash_api_key(key)},
    ),
    IDS,
    st.sampled_from(["a", "b", "c"]),
    st.booleans(),
)


@settings(max_examples=300)
@given(st.lists(st.one_of(connection_records, destination_records, key_records), max_size=40))
def test_indexes_follow_every_record(records: list[tuple[str, str, Any]]) -> None:
    state = ConfigState()
    for kind, resource_id, resource in records:
        value = None if resource is None else orjson.dumps(resource)
        state.apply(record_key(kind, resource_id), value)
        for source in ("src_1", "src_2", "src_3", "src_4"):
            assert state.connections_of(source) == rebuilt(state, source)
        for key in ("a", "b", "c"):
            held = [
                k for k in state.resources["api_key"].values() if k["key_hash"] == hash_api_key(key)
            ]
            assert (state.api_key(key) is not None) == bool(held)
