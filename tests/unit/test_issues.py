"""An issue's status over time, without ClickHouse."""

from __future__ import annotations

from hookhouse.api.issues import with_state

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
