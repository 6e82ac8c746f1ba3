"""Issues: what is broken now, aggregated from ClickHouse, with a status kept in the
config log (Hookdeck's ``/issues``).

A delivery issue is the failed attempts of one connection with one error code and
response status (with how many of its events failed for good: ``failed_events``); a
transformation issue is the failed runs of one transformation on one connection; a
backpressure issue is a destination whose oldest event waiting for its first attempt
has waited longer than a threshold (the smallest ``delay`` of the enabled backpressure
triggers that name the destination, otherwise five minutes); and a connection with
ordered delivery whose oldest event waiting behind a failed one of its key (status
``HOLD``, ``waiting_for`` set) has waited longer than that same threshold is a
backpressure issue too, with ``blocked_keys`` saying which keys and since when.  Their
ids derive from those keys, so the same failures are always the same issue.

An issue is ``OPENED`` until someone sets ``ACKNOWLEDGED``, ``RESOLVED`` or ``IGNORED``
(kind ``issue_state`` in the config log); a resolved or dismissed issue opens again
when failures arrive after that moment; an ignored one stays ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hookhouse.api import shapes
from hookhouse.common.domain.ids import derived_id

STATE = "issue_state"
STATUSES = ("OPENED", "ACKNOWLEDGED", "RESOLVED", "IGNORED")

DELIVERY_SQL = (
    "SELECT connection_id, error_code, response_status, count() AS failures, "
    "min(created_at) AS first_seen, max(created_at) AS last_seen, "
    "argMax(event_id, created_at) AS event_id, argMax(id, created_at) AS attempt_id "
    "FROM attempts FINAL WHERE project_id = {project:String} AND status = 'FAILED' "
    "GROUP BY connection_id, error_code, response_status"
)
# Events that failed for good, per delivery issue key (a final_attempt trigger's test).
FAILED_EVENTS_SQL = (
    "SELECT connection_id, error_code, response_status, count() AS failed_events, "
    "max(last_attempt_at) AS last_failed "
    "FROM events FINAL WHERE project_id = {project:String} AND status = 'FAILED' "
    "GROUP BY connection_id, error_code, response_status"
)
BACKLOG_SQL = (
    "SELECT destination_id, count() AS depth, min(created_at) AS oldest, "
    "max(created_at) AS newest "
    "FROM events FINAL WHERE project_id = {project:String} AND status = 'QUEUED' "
    "GROUP BY destination_id"
)
BACKPRESSURE_DELAY_MS = 300_000  # without a backpressure trigger: five minutes
# Ordered connections' keys blocked behind a failed event (deliverer/lanes.py).
BLOCKED_SQL = (
    "SELECT connection_id, destination_id, uniqExact(waiting_for) AS keys, "
    "count() AS depth, min(created_at) AS oldest, max(created_at) AS newest, "
    "argMin(waiting_for, created_at) AS head "
    "FROM events FINAL WHERE project_id = {project:String} AND status = 'HOLD' "
    "AND waiting_for != '' GROUP BY connection_id, destination_id"
)
TRANSFORMATION_SQL = (
    "SELECT transformation_id, connection_id, count() AS failures, "
    "min(created_at) AS first_seen, max(created_at) AS last_seen, "
    "argMax(id, created_at) AS execution_id "
    "FROM transformation_executions FINAL "
    "WHERE project_id = {project:String} AND status = 'FAILED' "
    "GROUP BY transformation_id, connection_id"
)


@dataclass
class Found:
    """The rows each issue type is made of, as the SQL above returns them."""

    deliveries: list[dict[str, Any]] = field(default_factory=list)
    failed_events: list[dict[str, Any]] = field(default_factory=list)
    transformations: list[dict[str, Any]] = field(default_factory=list)
    backlogs: list[dict[str, Any]] = field(default_factory=list)
    blocked: list[dict[str, Any]] = field(default_factory=list)


def delivery_key(row: dict[str, Any]) -> tuple[Any, ...]:
    return row["connection_id"], row["error_code"], row["response_status"]


def delivery(project_id: str, row: dict[str, Any], failed: dict[str, Any] | None) -> dict[str, Any]:
    status = row["response_status"]
    return {
        "id": derived_id(
            "iss", project_id, "delivery", row["connection_id"], row["error_code"], str(status)
        ),
        "type": "delivery",
        "aggregation_keys": {
            "webhook_id": [row["connection_id"]],
            "response_status": [status] if status is not None else [],
            **{
                name: [code] if code else []
                for name, code in shapes.error_codes(row["error_code"]).items()
            },
        },
        "reference": {"event_id": row["event_id"], "attempt_id": row["attempt_id"]},
        "failed_events": failed["failed_events"] if failed else 0,
        "last_failed_event_at": shapes.iso(failed["last_failed"]) if failed else None,
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


def backpressure(
    project_id: str, row: dict[str, Any], threshold_ms: int, now: datetime
) -> dict[str, Any] | None:
    """The destination's backlog as an issue, or ``None`` while it is under threshold."""
    oldest = row["oldest"].replace(tzinfo=UTC)
    delay_ms = int((now - oldest).total_seconds() * 1000)
    if delay_ms < threshold_ms:
        return None
    crossed = oldest + timedelta(milliseconds=threshold_ms)
    return {
        "id": derived_id("iss", project_id, "backpressure", row["destination_id"]),
        "type": "backpressure",
        "aggregation_keys": {"destination_id": [row["destination_id"]]},
        "reference": {"destination_id": row["destination_id"]},
        "backlog": {
            "depth": row["depth"],
            "delay_ms": delay_ms,
            "threshold_ms": threshold_ms,
            "oldest_at": shapes.iso(oldest),
        },
        "team_id": project_id,
        "failures": 0,
        "first_seen_at": shapes.iso(crossed),
        # the latest event to join the backlog: a dismissed issue shows again when more
        # events queue up behind a destination that is still too slow
        "last_seen_at": shapes.iso(max(crossed, row["newest"].replace(tzinfo=UTC))),
    }


def blocked(
    project_id: str, row: dict[str, Any], threshold_ms: int, now: datetime
) -> dict[str, Any] | None:
    """An ordered connection's blocked keys as an issue, or ``None`` while the oldest
    event waiting behind one has waited less than ``threshold_ms``."""
    issue = backpressure(project_id, row, threshold_ms, now)
    if issue is None:
        return None
    connection = row["connection_id"]
    return {
        **issue,
        "id": derived_id("iss", project_id, "backpressure", "ordering", connection),
        "aggregation_keys": {
            "destination_id": [row["destination_id"]],
            "webhook_id": [connection],
        },
        "reference": {"destination_id": row["destination_id"], "webhook_id": connection},
        "blocked_keys": {
            "keys": row["keys"],
            "oldest_waiting_for": row["head"],
        },
    }


# Per issue type: the trigger config that names what it watches, and the issue's key.
SCOPE = {
    "delivery": ("connections", "webhook_id"),
    "transformation": ("transformations", "transformation_id"),
    "backpressure": ("destinations", "destination_id"),
}


def applying(triggers: list[dict[str, Any]], kind: str, ids: set[str]) -> list[dict[str, Any]]:
    """The enabled triggers of type ``kind`` that name one of ``ids`` (``"*"``: all)."""
    scope = SCOPE[kind][0]

    def names(trigger: dict[str, Any]) -> bool:
        named = (trigger.get("configs") or {}).get(scope, "*")
        return named == "*" or bool(ids & set(named))

    return [t for t in triggers if t.get("type") == kind and not t.get("disabled_at") and names(t)]


def threshold(destination_id: str, triggers: list[dict[str, Any]]) -> int:
    """The smallest delay of the enabled backpressure triggers that name the destination."""
    return min(
        (
            (t.get("configs") or {}).get("delay", BACKPRESSURE_DELAY_MS)
            for t in applying(triggers, "backpressure", {destination_id})
        ),
        default=BACKPRESSURE_DELAY_MS,
    )


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
    found: Found,
    states: dict[str, dict[str, Any]],
    triggers: list[dict[str, Any]],
    now: datetime,
) -> list[dict[str, Any]]:
    failed = {delivery_key(row): row for row in found.failed_events}
    made: list[dict[str, Any] | None] = [
        delivery(project_id, row, failed.get(delivery_key(row))) for row in found.deliveries
    ]
    made += [transformation(project_id, row) for row in found.transformations]
    made += [
        backpressure(project_id, row, threshold(row["destination_id"], triggers), now)
        for row in found.backlogs
    ]
    made += [
        blocked(project_id, row, threshold(row["destination_id"], triggers), now)
        for row in found.blocked
    ]
    shown = (with_state(issue, states.get(issue["id"])) for issue in made if issue)
    return [issue for issue in shown if issue is not None]


def matches(issue: dict[str, Any], params: Any) -> bool:
    for name in ("status", "type"):
        wanted = params.getlist(name)
        if wanted and issue[name] not in wanted:
            return False
    connections = params.getlist("aggregation_keys[webhook_id]") or params.getlist("webhook_id")
    shown = issue["aggregation_keys"].get("webhook_id", [])
    return not connections or bool(set(connections) & set(shown))
