"""Which issues notify, and what a notice is."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from hookhouse.api.fields import ApiError
from hookhouse.api.notifications import covered, due, notice, setting_fields


def issue(kind: str = "delivery", **keys: list[str]) -> dict[str, Any]:
    return {
        "id": "iss_1",
        "team_id": "tm_1",
        "type": kind,
        "status": "OPENED",
        "opened_at": "2026-11-23T10:00:00.000Z",
        "aggregation_keys": {"webhook_id": ["web_1"], **keys},
    }


def trigger(kind: str, scope: Any, **extra: Any) -> dict[str, Any]:
    name = "connections" if kind == "delivery" else "transformations"
    configs = {name: scope, **extra.pop("configs", {})}
    return {"type": kind, "configs": configs, **extra}


def test_triggers_of_the_issue_s_type_decide_and_none_means_all() -> None:
    assert covered(issue(), [])
    assert covered(issue(), [trigger("transformation", ["trs_9"])])  # another type
    assert covered(issue(), [trigger("delivery", "*")])
    assert covered(issue(), [trigger("delivery", ["web_2"]), trigger("delivery", ["web_1"])])
    assert not covered(issue(), [trigger("delivery", ["web_2"])])
    assert not covered(issue(), [trigger("delivery", "*", disabled_at="2026-01-01")])
    found = issue("transformation", transformation_id=["trs_1"])
    assert covered(found, [trigger("transformation", ["trs_1"])])
    assert not covered(found, [trigger("transformation", ["trs_2"])])


def test_a_final_attempt_trigger_waits_for_an_event_that_failed_for_good() -> None:
    final = trigger("delivery", "*", configs={"strategy": "final_attempt"})
    assert not covered(issue(), [final])  # attempts failed, retries still to come
    failed = {**issue(), "last_failed_event_at": "2026-11-23T10:05:00.000Z"}
    assert covered(failed, [final])
    earlier = {**failed, "opened_at": "2026-11-23T11:00:00.000Z"}  # reopened since
    assert not covered(earlier, [final])
    assert covered(issue(), [final, trigger("delivery", "*")])  # another trigger fires


def test_failed_runs_are_errors_for_a_transformation_trigger_s_log_level() -> None:
    found = issue("transformation", transformation_id=["trs_1"])
    for level, fires in [("debug", True), ("warn", True), ("error", True), ("fatal", False)]:
        made = trigger("transformation", "*", configs={"log_level": level})
        assert covered(found, [made]) is fires


def test_backpressure_notifies_again_only_after_its_backlog_turned_over() -> None:
    backlog = {
        **issue("backpressure", destination_id=["des_1"]),
        "backlog": {"oldest_at": "2026-11-23T10:00:00.000Z"},
    }
    assert due(backlog, None)
    assert not due(backlog, {"notified_for": "2026-11-23T10:05:00.000Z"})
    moved = {**backlog, "backlog": {"oldest_at": "2026-11-23T10:06:00.000Z"}}
    assert due(moved, {"notified_for": "2026-11-23T10:05:00.000Z"})
    named = {"type": "backpressure", "configs": {"destinations": ["des_2"]}}
    assert not covered(backlog, [named])


def test_an_opening_notifies_once() -> None:
    opened = issue()
    assert due(opened, None)
    assert not due(opened, {"notified_for": opened["opened_at"]})
    assert due({**opened, "opened_at": "2026-11-24T00:00:00.000Z"}, {"notified_for": "x"})
    assert not due({**opened, "status": "ACKNOWLEDGED"}, None)


def test_a_notice_is_a_request_with_an_id_of_its_issue_and_moment() -> None:
    first = notice("issue.opened", issue(), "src_alerts", "m1")
    assert first.id == notice("issue.opened", issue(), "src_alerts", "m1").id
    assert first.id != notice("issue.opened", issue(), "src_alerts", "m2").id
    assert (first.source_id, first.project_id, first.verified) == ("src_alerts", "tm_1", True)
    body = orjson.loads(first.body_bytes)
    assert body["topic"] == "issue.opened" and body["issue"]["id"] == "iss_1"


@pytest.mark.parametrize(
    "data",
    [{"enabled": "yes"}, {"enabled": True, "topics": ["event.successful"]}, {"enabled": True}],
)
def test_settings_refuse_what_cannot_be_honoured(data: dict[str, Any]) -> None:
    with pytest.raises(ApiError):
        setting_fields(data, "tm_1", None)  # no source of the project's given
