"""Issues: what is broken now, aggregated from ClickHouse, with a status kept in the
config log (Hookdeck's ``/issues``).

A delivery issue is the failed attempts of one connection with one error code and
response status; a transformation issue is the failed runs of one transformation on one
connection.  Their ids derive from those keys, so the same failures are always the same
issue.  An issue is ``OPENED`` until someone sets ``ACKNOWLEDGED``, ``RESOLVED`` or
``IGNORED`` (kind ``issue_state`` in the config log); a resolved or dismissed issue
opens again when failures arrive after that moment; an ignored one stays ignored.
"""

from __future__ import annotations

from typing import Any

from hookhouse.api import shapes
from hookhouse.common.ids import derived_id

STATE = "issue_state"
STATUSES = ("OPENED", "ACKNOWLEDGED", "RESOLVED", "IGNORED")

DELIVERY_SQL = (
    "SELECT connection_id, error_code, response_status, count() AS failures, "
    "min(created_at) AS first_seen, max(created_at) AS last_seen, "
    "argMax(event_id, created_at) AS event_id, argMax(id, created_at) AS attempt_id "
    "FROM attempts FINAL WHERE project_id = {project:String} AND status = 'FAILED' "
    "GROUP BY connection_id, error_code, response_status"
)
TRANSFORMATION_SQL = (
    "SELECT transformation_id, connection_id, count() AS failures, "
    "min(created_at) AS first_seen, max(created_at) AS last_seen, "
    "argMax(id, created_at) AS execution_id "
    "FROM transformation_executions FINAL "
    "WHERE project_id = {project:String} AND status = 'FAILED' "
    "GROUP BY transformation_id, connection_id"
)


def delivery(project_id: str, row: dict[str, Any]) -> dict[str, Any]:
    status = row["response_status"]
    return {
        "id": derived_id(
            "iss", project_id, "delivery", row["connection_id"], row["error_code"], str(status)
        ),
        "type": "delivery",
        "aggregation_keys": {
            "webhook_id": [row["connection_id"]],
            "response_status": [status] if status is not None else [],
            "error_code": [row["error_code"]] if row["error_code"] else [],
        },
        "reference": {"event_id": row["event_id"], "attempt_id": row["attempt_id"]},
        **common(project_id, row),
    }


def transformation(project_id: str, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": derived_id(
            "iss", project_id, "transformation", row["transformation_id"], row["connection_id"]
        ),
        "type": "transformation",
        "aggregation_keys": {
            "transformation_id": [row["transformation_id"]],
            "webhook_id": [row["connection_id"]],
            "log_level": ["error"],
        },
        "reference": {"transformation_execution_id": row["execution_id"]},
        **common(project_id, row),
    }


def common(project_id: str, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "team_id": project_id,
        "failures": row["failures"],
        "first_seen_at": shapes.iso(row["first_seen"]),
        "last_seen_at": shapes.iso(row["last_seen"]),
    }


def with_state(issue: dict[str, Any], state: dict[str, Any] | None) -> dict[str, Any] | None:
    """The issue as shown, or ``None`` when it is dismissed and nothing failed since."""
    state = state or {}
    status, changed = state.get("status", "OPENED"), state.get("status_changed_at")
    last_seen = issue["last_seen_at"] or ""
    dismissed = state.get("dismissed_at")
    if dismissed and last_seen <= dismissed:
        return None
    if status == "RESOLVED" and changed and last_seen > changed:
        status = "OPENED"  # it broke again after it was resolved
    if dismissed and last_seen > dismissed and status != "IGNORED":
        status = "OPENED"
    opened = changed if status == "OPENED" and changed and last_seen > changed else None
    return {
        **issue,
        "status": status,
        "opened_at": opened or issue["first_seen_at"],
        "dismissed_at": None,
        "created_at": issue["first_seen_at"],
        "updated_at": max(last_seen, changed or ""),
    }


def listed(
    project_id: str,
    deliveries: list[dict[str, Any]],
    transformations: list[dict[str, Any]],
    states: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    found = [delivery(project_id, row) for row in deliveries]
    found += [transformation(project_id, row) for row in transformations]
    shown = (with_state(issue, states.get(issue["id"])) for issue in found)
    return [issue for issue in shown if issue is not None]


def matches(issue: dict[str, Any], params: Any) -> bool:
    for name in ("status", "type"):
        wanted = params.getlist(name)
        if wanted and issue[name] not in wanted:
            return False
    connections = params.getlist("aggregation_keys[webhook_id]") or params.getlist("webhook_id")
    return not connections or bool(set(connections) & set(issue["aggregation_keys"]["webhook_id"]))
