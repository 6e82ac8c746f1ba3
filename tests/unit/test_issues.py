"""An issue's status over time, without ClickHouse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hookhouse.api.issues import Found, listed, threshold, with_state

ISSUE = {
    "id": "iss_1",
    "first_seen_at": "2026-01-01T00:00:00.000Z",
    "last_seen_at": "2026-01-02T00:00:00.000Z",
}
BEFORE, AFTER = "2026-01-01T12:00:00.000Z", "2026-01-03T00:00:00.000Z"


def status(state: dict[str, str] | None) -> str | None:
    shown = with_state(ISSUE, state)
    return None if shown is None else str(shown["status"])


def test_new_issues_are_open_and_keep_a_status_set_after_their_last_failure() -> None:
    assert status(None) == "OPENED"
    assert status({"status": "ACKNOWLEDGED", "status_changed_at": AFTER}) == "ACKNOWLEDGED"
    assert status({"status": "RESOLVED", "status_changed_at": AFTER}) == "RESOLVED"


def test_failures_after_resolving_or_dismissing_open_it_again_but_not_when_ignored() -> None:
    assert status({"status": "RESOLVED", "status_changed_at": BEFORE}) == "OPENED"
    assert status({"status": "IGNORED", "status_changed_at": BEFORE}) == "IGNORED"
    assert status({"dismissed_at": AFTER}) is None  # hidden: nothing failed since
    assert status({"dismissed_at": BEFORE}) == "OPENED"
    assert status({"status": "IGNORED", "dismissed_at": BEFORE}) == "IGNORED"


NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def backlog(minutes: int) -> dict[str, object]:
    oldest = (NOW - timedelta(minutes=minutes)).replace(tzinfo=None)  # as ClickHouse answers
    return {"destination_id": "des_1", "depth": 40, "oldest": oldest, "newest": oldest}


def test_a_destination_is_backpressured_once_its_oldest_event_waited_past_the_threshold() -> None:
    assert listed("tm_1", Found(backlogs=[backlog(4)]), {}, [], NOW) == []
    shown = listed("tm_1", Found(backlogs=[backlog(6)]), {}, [], NOW)
    assert [(i["type"], i["status"], i["backlog"]["depth"]) for i in shown] == [
        ("backpressure", "OPENED", 40)
    ]
    assert shown[0]["first_seen_at"] == "2026-11-23T11:59:00.000Z"  # 5 minutes after oldest
    minute = {"type": "backpressure", "configs": {"delay": 60_000, "destinations": ["des_1"]}}
    assert listed("tm_1", Found(backlogs=[backlog(2)]), {}, [minute], NOW)
    other = {"type": "backpressure", "configs": {"delay": 60_000, "destinations": ["des_2"]}}
    assert not listed("tm_1", Found(backlogs=[backlog(2)]), {}, [other], NOW)


def test_the_smallest_delay_of_the_enabled_triggers_naming_a_destination_applies() -> None:
    def made(delay: int, **extra: object) -> dict[str, object]:
        return {"type": "backpressure", "configs": {"delay": delay, "destinations": "*"}, **extra}

    assert threshold("des_1", []) == 300_000
    assert threshold("des_1", [made(120_000), made(90_000)]) == 90_000
    assert threshold("des_1", [made(60_000, disabled_at="2026-01-01")]) == 300_000


def test_an_ordered_connection_with_a_key_blocked_past_the_threshold_is_an_issue() -> None:
    oldest = (NOW - timedelta(minutes=7)).replace(tzinfo=None)
    row = {
        "connection_id": "web_1",
        "destination_id": "des_1",
        "keys": 2,
        "depth": 9,
        "oldest": oldest,
        "newest": oldest,
        "head": "evt_head",
    }
    (shown,) = listed("tm_1", Found(blocked=[row]), {}, [], NOW)
    assert shown["type"] == "backpressure"
    assert shown["aggregation_keys"] == {"destination_id": ["des_1"], "webhook_id": ["web_1"]}
    assert shown["blocked_keys"] == {"keys": 2, "oldest_waiting_for": "evt_head"}
    assert shown["backlog"]["depth"] == 9
    # not the destination's own backlog issue: both can be open at once
    (backlogged,) = listed("tm_1", Found(backlogs=[backlog(6)]), {}, [], NOW)
    assert backlogged["id"] != shown["id"]
    ten = {"type": "backpressure", "configs": {"delay": 600_000, "destinations": ["des_1"]}}
    assert listed("tm_1", Found(blocked=[row]), {}, [ten], NOW) == []
