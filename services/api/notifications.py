"""Webhook notifications of issues (Hookdeck's ``PUT /notifications/webhooks``), sent
through hookhouse's own path.

A project turns them on with ``{"enabled": true, "topics": ["issue.opened"],
"source_id": …}``, kept in the config log (kind ``notification_setting``, its id the
project's).  A notification is a request on that source, produced onto ``requests``
as an internal service would: the router routes it through the source's connections
(their filters and transformations apply) and the deliverer delivers it with retries
and signatures, like any webhook.

``issue.opened``: each API replica looks at the issues of the projects that asked,
every ``HOOKHOUSE_ISSUE_NOTIFY_INTERVAL_SECONDS``, and records what it notified (kind
``issue_notice``, apart from the issue's status so the two never overwrite each
other).  An issue notifies when it is
``OPENED`` (first, or again after it was resolved or dismissed) and an enabled issue
trigger of its type covers it — a project without a trigger of that type is notified
of every such issue.  ``issue.updated``: a status set through the API.  A notice's
request id derives from the issue and the moment it opened or changed, so replicas
racing, or one restarting before it recorded the notice, produce the same request and
the same events (one ``Idempotency-Key`` at the destination).
"""

from __future__ import annotations

from typing import Any

import orjson

from hookhouse.api import issues
from hookhouse.api.fields import ApiError, checked
from hookhouse.api.models.actions import NotificationSettingInput
from hookhouse.api.models.issue_triggers import LOG_LEVELS
from hookhouse.common.clock import now_ms
from hookhouse.common.domain.ids import derived_id
from hookhouse.common.domain.records import InboundRequest, b64
from hookhouse.common.domain.times import iso_ms

KIND = "notification_setting"
SENT = "issue_notice"  # per issue: {"notified_for": the opening last notified}


def setting_fields(data: dict[str, Any], project_id: str, source: Any) -> dict[str, Any]:
    """The stored setting; ``source`` is the project's source the notices go to."""
    body = checked(NotificationSettingInput, data)
    if body.enabled and source is None:
        raise ApiError(422, "UNPROCESSABLE_ENTITY", "'source_id' must be one of your sources.")
    return {
        "id": project_id,
        "project_id": project_id,
        "enabled": body.enabled,
        "topics": sorted(set(body.topics)),
        "source_id": source["id"] if source else body.source_id,
    }


def shape(setting: dict[str, Any] | None) -> dict[str, Any]:
    setting = setting or {}
    return {
        "enabled": setting.get("enabled", False),
        "topics": setting.get("topics", []),
        "source_id": setting.get("source_id"),
    }


def wants(setting: dict[str, Any], topic: str) -> bool:
    """Does a project's setting ask for notices of ``topic``?"""
    return bool(setting.get("enabled")) and topic in setting.get("topics", [])


def covered(issue: dict[str, Any], triggers: list[dict[str, Any]]) -> bool:
    """Does an enabled trigger of the issue's type cover it (or has the project none)?

    A delivery trigger with strategy ``final_attempt`` covers an issue only once one of
    its events failed for good after the issue opened; a transformation trigger covers
    failed runs (level ``error``) when its ``log_level`` is ``error`` or below."""
    kind = issue["type"]
    if not any(t.get("type") == kind for t in triggers):
        return True
    ids = set(issue["aggregation_keys"].get(issues.SCOPE[kind][1], []))
    return any(fires(t, issue) for t in issues.applying(triggers, kind, ids))


def fires(trigger: dict[str, Any], issue: dict[str, Any]) -> bool:
    configs = trigger.get("configs") or {}
    if configs.get("strategy") == "final_attempt":
        failed = issue.get("last_failed_event_at")
        return bool(failed and failed >= issue["opened_at"])
    if "log_level" in configs:
        return LOG_LEVELS.index(configs["log_level"]) <= LOG_LEVELS.index("error")
    return True


def due(issue: dict[str, Any], sent: dict[str, Any] | None) -> bool:
    """An opened issue whose opening has not been notified yet.

    A backpressure issue's opening moves with its oldest waiting event; it notifies
    again only once every event that waited at the last notice has left the backlog."""
    notified = (sent or {}).get("notified_for")
    if issue["status"] != "OPENED":
        return False
    if issue["type"] == "backpressure":
        return not notified or notified < issue["backlog"]["oldest_at"]
    return bool(notified != issue["opened_at"])


def notice(topic: str, issue: dict[str, Any], source_id: str, moment: str) -> InboundRequest:
    """The request that carries a notice; the same issue and moment, the same id."""
    body = orjson.dumps({"topic": topic, "issue": issue})
    return InboundRequest(
        id=derived_id("req", issue["id"], topic, moment),
        project_id=issue["team_id"],
        source_id=source_id,
        received_at=iso_ms(now_ms()),
        method="POST",
        path="",
        query="",
        headers={"content-type": "application/json", "x-hookhouse-topic": topic},
        body=b64(body),
        verified=True,
    )
