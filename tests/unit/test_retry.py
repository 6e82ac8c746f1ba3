from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookhouse.common.domain.config import record_key
from hookhouse.common.domain.retry import (
    MAX_ATTEMPTS,
    InvalidRetryRule,
    policy_from_rules,
    retry_after_seconds,
    status_predicate,
)
from hookhouse.common.domain.schedule import NOW, TIMER, place, tier_delays
from hookhouse.common.settings import Settings
from hookhouse.deliverer.service import Deliverer
from tests.unit.test_attempt import delivery as sample_delivery

TIERS = (("5s", 5), ("1m", 60), ("10m", 600), ("1h", 3600), ("6h", 21600))
statuses = st.integers(min_value=100, max_value=599)


def test_no_retry_rule_means_no_automatic_retry() -> None:
    policy = policy_from_rules([{"type": "filter"}])
    assert not policy.enabled
    assert not policy.should_retry(1, 500, "BAD_RESPONSE")


def test_linear_and_exponential_schedules_with_bounded_jitter() -> None:
    rng = random.Random(7)
    linear = policy_from_rules(
        [{"type": "retry", "strategy": "linear", "interval": 10_000, "count": 3}]
    )
    exponential = policy_from_rules(
        [{"type": "retry", "strategy": "exponential", "interval": 10_000, "count": 3}]
    )
    for attempt in (1, 2, 3):
        assert 9 <= linear.delay(attempt, rng) <= 11
        base = 10 * 2 ** (attempt - 1)
        assert 0.9 * base <= exponential.delay(attempt, rng) <= 1.1 * base


def test_count_limits_retries_and_hookdecks_cap_holds() -> None:
    policy = policy_from_rules([{"type": "retry", "count": 2, "interval": 1000}])
    assert policy.should_retry(1, 500, "BAD_RESPONSE")
    assert policy.should_retry(2, None, "TIMEOUT")
    assert not policy.should_retry(3, 500, "BAD_RESPONSE")
    with pytest.raises(InvalidRetryRule):
        policy_from_rules([{"type": "retry", "count": MAX_ATTEMPTS}])


def test_ssrf_blocks_are_never_retried() -> None:
    policy = policy_from_rules([{"type": "retry", "count": 5}])
    assert not policy.should_retry(1, None, "SSRF_BLOCKED")


def test_status_conditions() -> None:
    rule = status_predicate(["500-599", "429", "!503"])
    assert rule(500) and rule(429) and not rule(503) and not rule(404)
    only_negative = status_predicate(["!401", "!403"])
    assert only_negative(500) and only_negative(404) and not only_negative(401)
    above = status_predicate([">400"])
    assert above(401) and not above(400)
    for bad in ["5xx", "600-500", ">=", "", "50"]:
        with pytest.raises(InvalidRetryRule):
            status_predicate([bad])


@given(statuses, statuses, statuses)
def test_range_equals_two_comparisons(low: int, high: int, status: int) -> None:
    if low > high:
        low, high = high, low
    ranged = status_predicate([f"{low}-{high}"])
    compared = status_predicate([f">={low}"])(status) and status_predicate([f"<={high}"])(status)
    assert ranged(status) == compared


@given(st.lists(statuses, min_size=1, max_size=5), statuses)
def test_negation_excludes_whatever_else_matches(excluded: list[int], status: int) -> None:
    rule = status_predicate(["100-599", *[f"!{s}" for s in excluded]])
    assert rule(status) == (status not in excluded)


def test_retry_after_seconds_and_dates_are_clamped() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("30", now, 3600) == 30
    assert retry_after_seconds("999999", now, 3600) == 3600
    date = format_datetime(now + timedelta(seconds=120), usegmt=True)
    assert retry_after_seconds(date, now, 3600) == 120
    past = format_datetime(now - timedelta(seconds=120), usegmt=True)
    assert retry_after_seconds(past, now, 3600) == 0
    assert retry_after_seconds("soon", now, 3600) is None
    assert retry_after_seconds(None, now, 3600) is None


def test_placement_uses_the_largest_fitting_tier() -> None:
    assert place(0, TIERS).where == NOW
    assert place(-3, TIERS).where == NOW
    assert (place(3, TIERS).where, place(3, TIERS).seconds) == (TIMER, 3)
    assert place(5, TIERS).where == "5s"
    assert place(59, TIERS).where == "5s"
    assert place(3599, TIERS).where == "10m"
    assert place(7 * 86400, TIERS).where == "6h"


@given(st.floats(min_value=0.001, max_value=8 * 86400))
def test_placement_never_waits_past_the_due_time(remaining: float) -> None:
    placement = place(remaining, TIERS)
    assert 0 < placement.seconds <= remaining


def test_tier_delays_of_topics() -> None:
    delays = tier_delays("hookhouse.", TIERS)
    assert delays["hookhouse.retry.1m"] == 60
    assert "hookhouse.deliveries" not in delays


def test_the_deliverer_parses_a_connections_retry_rule_once_per_version() -> None:
    deliverer = Deliverer(Settings())
    state = deliverer.config.state

    def save(rules: list[dict[str, object]]) -> None:
        connection = {"id": "web_1", "project_id": "tm_1", "name": "c", "rules": rules}
        connection |= {"source_id": "src_1", "destination_id": "des_1"}
        state.apply(record_key("connection", "web_1"), orjson.dumps(connection))

    delivery = sample_delivery()  # of connection web_1
    save([{"type": "retry", "strategy": "linear", "interval": 1000, "count": 2}])
    first = deliverer.policy(delivery)
    assert first.count == 2
    assert deliverer.policy(delivery) is first  # the same rules: not parsed again
    save([{"type": "retry", "strategy": "linear", "interval": 1000, "count": 4}])
    assert deliverer.policy(delivery).count == 4  # a changed rule applies at once
    save([{"type": "retry", "strategy": "sideways"}])
    assert not deliverer.policy(delivery).enabled  # an unusable rule: no automatic retry
