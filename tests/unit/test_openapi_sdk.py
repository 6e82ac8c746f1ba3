"""The OpenAPI document against the official Hookdeck SDK (``@hookdeck/sdk``, pinned in
``tests/conformance/package.json``; ``make test`` installs it): every path and method
the SDK calls is in the document, every enum the document shares with the SDK has the
SDK's values, and every answer requires what the SDK requires.  What the SDK reads is
listed from the SDK itself by ``tests/conformance/surface.mjs``; what hookhouse differs
in is listed below, each with its reason."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hookhouse.api import openapi
from hookhouse.api.app import API_VERSION
from hookhouse.api.context import Context
from hookhouse.common.settings import Settings

CONFORMANCE = Path(__file__).parents[1] / "conformance"

# SDK calls hookhouse does not serve, and why.
NOT_SERVED: dict[tuple[str, str], str] = {}

# The document's answers and the SDK's objects they are parsed as.
ANSWERS = {
    "Source": "Source",
    "Destination": "Destination",
    "Connection": "Connection",
    "Transformation": "Transformation",
    "IssueTrigger": "IssueTrigger",
    "Bookmark": "Bookmark",
    "Request": "Request",
    "Event": "Event",
    "Attempt": "EventAttempt",
    "IgnoredEvent": "IgnoredEvent",
    "TransformationExecution": "TransformationExecution",
    "BulkRetry": "BatchOperation",
    "Issue": "DeliveryIssue",  # the SDK's Issue is a union of its types' objects
    "ConsoleLine": "ConsoleLine",
    "CustomResponse": "SourceCustomResponse",
    "DeliveryConfigs-Output": "IssueTriggerDeliveryConfigs",
    "TransformationConfigs-Output": "IssueTriggerTransformationConfigs",
    "BackpressureConfigs-Output": "IssueTriggerBackpressureConfigs",
    "NotificationSetting": "ToggleWebhookNotifications",
    "TransformationRunResult": "TransformationExecutorOutput",
    "Error": "ApiErrorResponse",
    "CustomDomain": "ListCustomDomainSchemaItem",
}

# Keys the SDK requires that an answer does not have yet, and why.
NOT_REQUIRED: dict[tuple[str, str], str] = {}

# Enums of the SDK the document states differently, and why.
ENUMS_DIFFER = {
    # Only the topics hookhouse sends are accepted; the other two are refused by name.
    ("NotificationSetting", "topics"): "subset: issue.opened and issue.updated",
    # hookhouse's backfills (POST /connections/{id}/backfill), which Hookdeck lacks,
    # deliver with trigger BACKFILL.
    ("Attempt", "trigger"): "superset: BACKFILL",
}
# SDK enums the document leaves as text, and why.
NOT_ENUMERATED = {
    # ingest's refusals are named by hookhouse (its causes include ones Hookdeck lacks).
    ("Request", "rejection_cause"): "hookhouse's causes",
}


@pytest.fixture(scope="module")
def sdk() -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "the SDK comparison needs Node.js (apt-get install nodejs npm)"
    assert (CONFORMANCE / "node_modules" / "@hookdeck" / "sdk").is_dir(), (
        "the SDK is missing: `make tests/conformance/node_modules/.package-lock.json` "
        "(npm ci in tests/conformance)"
    )
    out = subprocess.run(
        [node, "surface.mjs"], cwd=CONFORMANCE, capture_output=True, check=True, timeout=120
    )
    surface: dict[str, Any] = json.loads(out.stdout)
    return surface


@pytest.fixture(scope="module")
def document() -> Iterator[dict[str, Any]]:
    ctx = Context.of(Settings())
    yield openapi.document(list(ctx.kinds.values()), API_VERSION)
    ctx.javascript.close()


def test_the_document_has_every_path_and_method_the_sdk_calls(
    sdk: dict[str, Any], document: dict[str, Any]
) -> None:
    served = {
        (method, re.sub(r"\{[^}]*\}", "{}", path))
        for path, operations in document["paths"].items()
        for method in operations
        if method != "parameters"
    }
    called = {(method, path) for method, path in sdk["operations"]}
    assert len(called) > 80
    assert sorted(called - served - set(NOT_SERVED)) == []
    assert sorted(set(NOT_SERVED) & served) == [], "served now: drop it from NOT_SERVED"


def enum_of(schema: dict[str, Any], components: dict[str, Any]) -> set[str] | None:
    """The values a property may take, when the document enumerates them."""
    if "$ref" in schema:
        return enum_of(components[schema["$ref"].rsplit("/", 1)[1]], components)
    if "enum" in schema:
        return {v for v in schema["enum"] if v is not None}
    if "const" in schema:
        return {schema["const"]}
    if "items" in schema:
        return enum_of(schema["items"], components)
    found = [enum_of(s, components) for s in schema.get("anyOf", [])]
    values = [v for v in found if v is not None]
    return set().union(*values) if values else None


def test_every_shared_enum_has_the_sdk_s_values(
    sdk: dict[str, Any], document: dict[str, Any]
) -> None:
    components = document["components"]["schemas"]
    compared, wrong, unlisted = 0, [], []
    for ours, theirs in ANSWERS.items():
        properties = components[ours].get("properties", {})
        for key, enum in sdk["objects"][theirs]["enums"].items():
            if key not in properties:
                continue
            values = enum_of(properties[key], components)
            if values is None:
                if (ours, key) not in NOT_ENUMERATED:
                    unlisted.append((ours, key, enum))
                continue
            compared += 1
            if values != set(sdk["enums"][enum]) and (ours, key) not in ENUMS_DIFFER:
                wrong.append((ours, key, sorted(values), sdk["enums"][enum]))
    assert compared > 15
    assert wrong == []
    assert unlisted == [], "enumerate these, or say why not in NOT_ENUMERATED"


def test_every_answer_requires_what_the_sdk_requires(
    sdk: dict[str, Any], document: dict[str, Any]
) -> None:
    components = document["components"]["schemas"]
    missing = [
        (ours, key)
        for ours, theirs in ANSWERS.items()
        for key in sdk["objects"][theirs]["required"]
        if key not in components[ours].get("required", []) and (ours, key) not in NOT_REQUIRED
    ]
    assert missing == []
