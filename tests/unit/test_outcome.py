"""What follows an attempt (``domain/outcome.py``): its row, and a retry, a dead letter
or nothing — with the time, the policy and the mute given, so no broker and no clock."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from email.utils import format_datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookhouse.common.domain.outcome import (
    AfterAttempt,
    DeadLetter,
    Done,
    Muted,
    Pushed,
    Retry,
    after_attempt,
    classify,
    mute_stops,
)
from hookhouse.common.domain.retry import MAX_AGE_SECONDS, RetryPolicy, policy_from_rules
from hookhouse.common.domain.times import iso_ms, parse_iso
from tests.unit.test_attempt import delivery as sample_delivery

CREATED_MS = int(parse_iso(sample_delivery().created_at).timestamp() * 1000)
STARTED_MS = CREATED_MS + 60_000  # the attempt started a minute after the event
NOW_MS = STARTED_MS + 250  # and ended 250 ms later
CAP = 3600.0  # HOOKHOUSE_RETRY_AFTER_MAX_SECONDS
EVERY_10S: list[Mapping[str, Any]] = [
    {"type": "retry", "strategy": "linear", "interval": 10_000, "count": 3}
]
ONLY_5XX: list[Mapping[str, Any]] = [{**EVERY_10S[0], "response_status_codes": ["500-599"]}]


def pushed(status: int | None, error_code: str = "", **headers: str) -> Pushed:
    return Pushed(
        status=status,
        error_code=error_code,
        headers={name.replace("_", "-"): value for name, value in headers.items()},
        body="answer" if status is not None else "no answer",
        url="https://d.example/a",
        method="POST",
        started_ms=STARTED_MS,
        duration_ms=250,
    )


def decide(
    result: Pushed,
    rules: list[Mapping[str, Any]] | None = None,
    attempt: int = 1,
    trigger: str = "INITIAL",
    muted: bool = False,
    now_ms: int = NOW_MS,
    cap: float = CAP,
) -> AfterAttempt:
    delivery = replace(sample_delivery(), attempt=attempt, trigger=trigger)
    return after_attempt(
        delivery,
        result,
        policy_from_rules(rules),
        now_ms,
        muted=muted,
        attempt_id="atm_1",
        retry_after_cap=cap,
        rng=random.Random(7),
    )


@dataclass(frozen=True)
class Case:
    result: Pushed
    rules: list[Mapping[str, Any]] | None
    then: type  # Done, Retry, DeadLetter or Muted
    status: str  # the attempt's
    error_code: str
    kwargs: dict[str, Any] = field(default_factory=dict)


TIMEOUT = pushed(None, "TIMEOUT")
CASES = {
    "2xx: delivered": Case(pushed(200), EVERY_10S, Done, "SUCCESSFUL", ""),
    "299 is a 2xx": Case(pushed(299), None, Done, "SUCCESSFUL", ""),
    "a redirect is a failure": Case(pushed(302), EVERY_10S, Retry, "FAILED", "BAD_RESPONSE"),
    "5xx: retried": Case(pushed(500), EVERY_10S, Retry, "FAILED", "BAD_RESPONSE"),
    "no retry rule: dead": Case(pushed(500), None, DeadLetter, "FAILED", "BAD_RESPONSE"),
    "timeout: retried": Case(TIMEOUT, EVERY_10S, Retry, "FAILED", "TIMEOUT"),
    "refused: retried": Case(
        pushed(None, "CONNECTION_REFUSED"), EVERY_10S, Retry, "FAILED", "CONNECTION_REFUSED"
    ),
    "dns: retried": Case(
        pushed(None, "DNS_LOOKUP_FAILED"), EVERY_10S, Retry, "FAILED", "DNS_LOOKUP_FAILED"
    ),
    "tls: retried": Case(pushed(None, "SSL_ERROR"), EVERY_10S, Retry, "FAILED", "SSL_ERROR"),
    "reset: retried": Case(
        pushed(None, "CONNECTION_RESET"), EVERY_10S, Retry, "FAILED", "CONNECTION_RESET"
    ),
    "bad auth config: retried (it may be fixed)": Case(
        pushed(None, "AUTH_CONFIG_INVALID"), EVERY_10S, Retry, "FAILED", "AUTH_CONFIG_INVALID"
    ),
    "oauth2 handshake: retried": Case(
        pushed(None, "OAUTH2_HANDSHAKE_FAILED"),
        EVERY_10S,
        Retry,
        "FAILED",
        "OAUTH2_HANDSHAKE_FAILED",
    ),
    "ssrf: never retried": Case(
        pushed(None, "SSRF_BLOCKED"), EVERY_10S, DeadLetter, "FAILED", "SSRF_BLOCKED"
    ),
    "no url: never retried": Case(
        pushed(None, "MISSING_URL"), EVERY_10S, DeadLetter, "FAILED", "MISSING_URL"
    ),
    "status rule keeps 503": Case(pushed(503), ONLY_5XX, Retry, "FAILED", "BAD_RESPONSE"),
    "status rule drops 404": Case(pushed(404), ONLY_5XX, DeadLetter, "FAILED", "BAD_RESPONSE"),
    "status rule: no answer still retried": Case(TIMEOUT, ONLY_5XX, Retry, "FAILED", "TIMEOUT"),
    "the last retry": Case(pushed(500), EVERY_10S, Retry, "FAILED", "BAD_RESPONSE", {"attempt": 3}),
    "retries exhausted": Case(
        pushed(500), EVERY_10S, DeadLetter, "FAILED", "BAD_RESPONSE", {"attempt": 4}
    ),
    "muted failure: nothing follows": Case(
        pushed(500), EVERY_10S, Muted, "FAILED", "BAD_RESPONSE", {"muted": True}
    ),
    "muted success: nothing follows": Case(
        pushed(200), EVERY_10S, Muted, "SUCCESSFUL", "", {"muted": True}
    ),
    "a week after the event: dead": Case(
        pushed(500),
        EVERY_10S,
        DeadLetter,
        "FAILED",
        "BAD_RESPONSE",
        {"now_ms": CREATED_MS + MAX_AGE_SECONDS * 1000 - 5_000},
    ),
    "retry-after past the week: dead": Case(
        pushed(503, retry_after="3600"),
        EVERY_10S,
        DeadLetter,
        "FAILED",
        "BAD_RESPONSE",
        {"now_ms": CREATED_MS + MAX_AGE_SECONDS * 1000 - 1800_000},
    ),
    "retry-after without a retry rule: dead": Case(
        pushed(429, retry_after="5"), None, DeadLetter, "FAILED", "BAD_RESPONSE"
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_what_follows_an_attempt(case: Case) -> None:
    decided = decide(case.result, case.rules, **case.kwargs)
    row, then = decided.row, decided.then
    assert type(then) is case.then
    assert (row.status, row.error_code) == (case.status, case.error_code)
    if isinstance(then, Retry):  # the event waits for its next attempt
        assert (row.event_status, row.next_attempt_at) == ("QUEUED", then.delivery.not_before)
    else:
        assert (row.event_status, row.next_attempt_at) == (case.status, None)
    if isinstance(then, DeadLetter):
        assert then.reason == case.error_code


def test_the_row_is_the_attempt_as_pushed() -> None:
    result = pushed(500, content_type="text/plain")
    row = decide(result, EVERY_10S, attempt=2, trigger="AUTOMATIC").row
    assert row.id == "atm_1"
    assert row.version == NOW_MS
    assert row.created_at == iso_ms(STARTED_MS)
    assert (row.attempt_number, row.trigger) == (2, "AUTOMATIC")
    assert (row.response_status, row.response_headers) == (500, {"content-type": "text/plain"})
    assert (row.response_body, row.duration_ms) == ("answer", 250)
    assert (row.requested_url, row.http_method) == ("https://d.example/a", "POST")
    event = sample_delivery()
    assert (row.event_id, row.request_id, row.project_id) == ("evt_1", "req_1", "tm_1")
    assert (row.connection_id, row.destination_id, row.source_id) == ("web_1", "des_1", "src_1")
    assert row.event_created_at == event.created_at


def test_a_retry_is_the_next_automatic_attempt_after_the_policys_delay() -> None:
    decided = decide(pushed(500), EVERY_10S, attempt=2, trigger="MANUAL")
    assert isinstance(decided.then, Retry)
    retry = decided.then.delivery
    assert (retry.attempt, retry.trigger) == (3, "AUTOMATIC")
    assert NOW_MS + 9_000 <= decided.then.due_ms <= NOW_MS + 11_000  # 10 s, ±10% jitter
    assert retry.not_before == iso_ms(decided.then.due_ms)
    # Otherwise the same delivery: the same event, payload and headers.
    assert replace(retry, attempt=2, trigger="MANUAL", not_before=None) == replace(
        sample_delivery(), attempt=2, trigger="MANUAL"
    )


RETRY_AFTER = {
    "seconds, longer than the policy": ("120", 120_000),
    "seconds, past the cap": ("999999", int(CAP * 1000)),
    "an http date": (format_datetime(parse_iso(iso_ms(NOW_MS + 300_000)), usegmt=True), None),
}


@pytest.mark.parametrize("header,delay_ms", RETRY_AFTER.values(), ids=RETRY_AFTER.keys())
def test_retry_after_is_honoured_and_clamped(header: str, delay_ms: int | None) -> None:
    decided = decide(pushed(503, retry_after=header), EVERY_10S)
    assert isinstance(decided.then, Retry)
    if delay_ms is not None:
        assert decided.then.due_ms == NOW_MS + delay_ms
    else:  # a date has whole seconds: at most one second early
        assert NOW_MS + 299_000 <= decided.then.due_ms <= NOW_MS + 300_000


def test_a_retry_after_shorter_than_the_policys_delay_does_not_shorten_it() -> None:
    decided = decide(pushed(429, retry_after="1"), EVERY_10S)
    assert isinstance(decided.then, Retry)
    assert decided.then.due_ms >= NOW_MS + 9_000


def test_the_decision_reads_no_clock_and_no_global_randomness() -> None:
    first = decide(pushed(500), EVERY_10S)
    random.seed(1)  # the module's random, which the jitter would use without an rng
    again = decide(pushed(500), EVERY_10S)
    assert first == again


MUTES = {
    "INITIAL": True,
    "AUTOMATIC": True,
    "UNPAUSE": True,
    "MANUAL": False,  # asked for by hand: goes
    "BULK_RETRY": False,
    "BACKFILL": True,  # a new event, as live traffic's: a mute stops it
}


@pytest.mark.parametrize("trigger,stopped", MUTES.items(), ids=MUTES.keys())
def test_a_mute_stops_automatic_deliveries_only(trigger: str, stopped: bool) -> None:
    delivery = replace(sample_delivery(), trigger=trigger)
    assert mute_stops(delivery, event_muted=True) is stopped
    assert mute_stops(delivery, event_muted=False) is False


@given(
    st.one_of(st.none(), st.integers(min_value=100, max_value=599)),
    st.sampled_from(["", "TIMEOUT", "SSRF_BLOCKED", "CONNECTION_RESET"]),
    st.integers(min_value=1, max_value=60),
    st.integers(min_value=0, max_value=MAX_AGE_SECONDS * 1000 + 60_000),
)
def test_a_retry_is_never_early_nor_past_the_week(
    status: int | None, error_code: str, attempt: int, since_created_ms: int
) -> None:
    if status is None and not error_code:
        error_code = "UNKNOWN"
    now = CREATED_MS + since_created_ms
    decided = decide(pushed(status, error_code), EVERY_10S, attempt=attempt, now_ms=now)
    if isinstance(decided.then, Retry):
        assert now <= decided.then.due_ms <= CREATED_MS + MAX_AGE_SECONDS * 1000
        assert decided.then.delivery.attempt == attempt + 1
    assert decided.row.version == now


def test_classify() -> None:
    assert classify(200, "").status == "SUCCESSFUL"
    assert classify(299, "").status == "SUCCESSFUL"
    assert classify(302, "") == classify(500, "")
    assert classify(500, "").error_code == "BAD_RESPONSE"
    assert classify(None, "TIMEOUT").error_code == "TIMEOUT"


def test_a_policy_without_retries_dead_letters_every_failure() -> None:
    result = after_attempt(
        sample_delivery(),
        pushed(None, "TIMEOUT"),
        RetryPolicy(),
        NOW_MS,
        muted=False,
        attempt_id="atm_2",
        retry_after_cap=CAP,
    )
    assert result.then == DeadLetter("TIMEOUT")
