"""Retry policy as data: a connection's retry rule, parsed once, and the schedule it implies.

Rule shape (Hookdeck's, API 2024-03-01, plus ``response_status_codes`` from its later
versions)::

    {"type": "retry", "strategy": "linear" | "exponential", "interval": <ms>,
     "count": <retries>, "response_status_codes": ["500-599", ">400", "!401", "429"]}

Status conditions: a response is retried when it matches at least one positive
condition (all statuses when there is none) and no ``!`` condition.  Errors with no
response (timeouts, refused connections) are always retryable; ``SSRF_BLOCKED`` never.
Hookdeck's caps hold: at most 50 attempts, and none later than a week after the event.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

MAX_ATTEMPTS = 50
MAX_AGE_SECONDS = 7 * 24 * 3600
JITTER = 0.1  # ±10% of each delay
PERMANENT_ERRORS = frozenset({"SSRF_BLOCKED", "MISSING_URL"})

_CONDITION = re.compile(r"^(!)?\s*(?:(\d{3})\s*-\s*(\d{3})|([<>]=?)\s*(\d{3})|(\d{3}))$")


class InvalidRetryRule(ValueError):
    pass


StatusPredicate = Callable[[int], bool]


def _condition(text: str) -> tuple[bool, StatusPredicate]:
    match = _CONDITION.match(text.strip())
    if match is None:
        raise InvalidRetryRule(
            f"'{text}' is not a status condition (examples: 500-599, >400, <=299, !401, 429)"
        )
    negated, low, high, op, bound, exact = match.groups()
    if low is not None:
        lo, hi = int(low), int(high)
        if lo > hi:
            raise InvalidRetryRule(f"'{text}': the range is empty")
        test: StatusPredicate = lambda s: lo <= s <= hi  # noqa: E731
    elif op is not None:
        b = int(bound)
        test = {
            ">": lambda s: s > b,
            ">=": lambda s: s >= b,
            "<": lambda s: s < b,
            "<=": lambda s: s <= b,
        }[op]
    else:
        value = int(exact)
        test = lambda s: s == value  # noqa: E731
    return negated is None, test


def status_predicate(conditions: list[str]) -> StatusPredicate:
    """Compile status conditions into one predicate (see the module docstring)."""
    parsed = [_condition(c) for c in conditions]
    positives = [test for positive, test in parsed if positive]
    negatives = [test for positive, test in parsed if not positive]

    def retry_on(status: int) -> bool:
        if any(test(status) for test in negatives):
            return False
        return not positives or any(test(status) for test in positives)

    return retry_on


@dataclass(frozen=True)
class RetryPolicy:
    strategy: str = "linear"
    interval_seconds: float = 0.0
    count: int = 0  # retries after the first attempt
    retry_on: StatusPredicate | None = None  # None: every failed status

    @property
    def enabled(self) -> bool:
        return self.count > 0

    def should_retry(self, attempt: int, response_status: int | None, error_code: str) -> bool:
        """Whether the attempt numbered ``attempt`` (1-based) that just failed gets another."""
        if attempt > min(self.count, MAX_ATTEMPTS - 1):
            return False
        if error_code in PERMANENT_ERRORS:
            return False
        if response_status is None or self.retry_on is None:
            return True
        return self.retry_on(response_status)

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the failed attempt ``attempt``, with ±10% jitter."""
        base = self.interval_seconds
        if self.strategy == "exponential":
            base = self.interval_seconds * 2 ** (attempt - 1)
        spread = (rng or random).uniform(1 - JITTER, 1 + JITTER)
        return float(min(base * spread, MAX_AGE_SECONDS))


def policy_from_rules(rules: list[Mapping[str, Any]] | None) -> RetryPolicy:
    """The retry policy of a connection's rules; no retry rule means no automatic retry."""
    for rule in rules or []:
        if rule.get("type") != "retry":
            continue
        strategy = rule.get("strategy", "linear")
        if strategy not in ("linear", "exponential"):
            raise InvalidRetryRule(f"strategy must be linear or exponential, not {strategy!r}")
        interval = rule.get("interval", 60_000)
        count = rule.get("count", 5)
        if not isinstance(interval, int) or interval < 0:
            raise InvalidRetryRule("interval must be a whole number of milliseconds, 0 or more")
        if not isinstance(count, int) or not 0 <= count <= MAX_ATTEMPTS - 1:
            raise InvalidRetryRule(f"count must be a whole number from 0 to {MAX_ATTEMPTS - 1}")
        codes = rule.get("response_status_codes")
        if codes is not None and not (
            isinstance(codes, list) and all(isinstance(c, str) for c in codes)
        ):
            raise InvalidRetryRule("response_status_codes must be a list of strings")
        return RetryPolicy(
            strategy=strategy,
            interval_seconds=interval / 1000,
            count=count,
            retry_on=status_predicate(codes) if codes else None,
        )
    return RetryPolicy()


def retry_after_seconds(value: str | None, now: datetime, cap: float) -> float | None:
    """A ``Retry-After`` header (delay-seconds or an HTTP date) in seconds, clamped to ``cap``."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text), cap)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, min((when - now).total_seconds(), cap))
