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
    return {"type": kind, "configs": {name: scope}, **extra}


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
