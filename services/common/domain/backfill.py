"""A backfill's pure parts: the window it covers, which stored requests it still has
to route, how fast it may go, and the deduplication it applies as it goes.

A backfill routes a source's stored requests through one connection as the router's
first pass would have (``routing.route`` without a replay tag: the same event and
ignored-event ids, so a batch routed twice after a crash makes the same events), and
skips a request that an earlier backfill of the connection covered (:class:`Covered`)
or that already has an event or an ignored event on that connection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hookhouse.common.domain.ratelimit import PERIODS
from hookhouse.common.domain.times import iso_ms

# Times a backfill may name: what ClickHouse's DateTime64 holds and a person writes.
EARLIEST_MS = int(datetime(1900, 1, 1, tzinfo=UTC).timestamp() * 1000)
TIME_MAX_CHARS = 40  # "2026-12-06T17:11:09.123456+05:30" and room to spare
# Of a destination's rate limit, the share a backfill may take: the rest stays for
# the connection's live traffic to the same destination.
SHARE_OF_LIMIT = 0.5
BATCH_MAX = 100  # requests read, checked and routed at once
BATCH_SECONDS = 5.0  # a batch holds what the pace allows in this long (at least one)
# Ids of the requests a backfill could not queue that it keeps, so that a later one
# routes them; past that many, its covered range stops growing (:func:`covered_after`).
FAILED_IDS_MAX = 1_000

# A request's place in the order a backfill reads in: (received, epoch ms; its id).
# ``requests.created_at`` is a DateTime64(3): milliseconds are its whole precision.
SeekKey = tuple[int, str]


class InvalidWindow(ValueError):
    """A ``since``/``until`` the API refuses (422); the message names the field."""


@dataclass(frozen=True)
class Window:
    since_ms: int
    until_ms: int

    @property
    def since(self) -> str:
        return iso_ms(self.since_ms)

    @property
    def until(self) -> str:
        return iso_ms(self.until_ms)


def parse_time(name: str, value: Any) -> int:
    """Epoch milliseconds of the ISO 8601 time in field ``name`` (UTC when it names no
    zone)."""
    if not isinstance(value, str) or len(value) > TIME_MAX_CHARS:
        raise InvalidWindow(f"'{name}' must be an ISO 8601 time, such as 2024-03-01T00:00:00Z.")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidWindow(
            f"'{name}' must be an ISO 8601 time, such as 2024-03-01T00:00:00Z."
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        ms = int(moment.timestamp() * 1000)
    except (OverflowError, ValueError) as exc:  # year 1 with a zone east of UTC
        raise InvalidWindow(f"'{name}' must be a time after 1900.") from exc
    if ms < EARLIEST_MS:
        raise InvalidWindow(f"'{name}' must be a time after 1900.")
    return ms


def window(since: Any, until: Any, now_ms: int) -> Window:
    """The window asked for: ``since`` required, ``until`` optional (default: now);
    neither in the future, ``since`` not after ``until``."""
    if since is None:
        raise InvalidWindow("'since' is required: the time from which to backfill.")
    since_ms = parse_time("since", since)
    until_ms = now_ms if until is None else parse_time("until", until)
    if since_ms > now_ms:
        raise InvalidWindow("'since' is in the future: nothing was received then yet.")
    if until_ms > now_ms:
        raise InvalidWindow("'until' is in the future: nothing was received then yet.")
    if since_ms > until_ms:
        raise InvalidWindow("'since' is after 'until'.")
    return Window(since_ms, until_ms)


def for_connection(asked: Window, connection_created_ms: int) -> Window:
    """What a backfill of ``asked`` covers on a connection: nothing after the
    connection was created, because from then on the router routed its requests live
    (as events, or as ignored events while it was disabled)."""
    until_ms = min(asked.until_ms, connection_created_ms)
    return Window(min(asked.since_ms, until_ms), until_ms)


def horizon_ms(now_ms: int, retention_days: int) -> int | None:
    """The oldest time whose requests ClickHouse may still hold (its retention); ``None``
    when it keeps them forever (a retention of 0)."""
    return now_ms - retention_days * 86_400_000 if retention_days > 0 else None


def per_second(
    rate_limit: int | None, rate_limit_period: str | None, default_per_second: float
) -> float:
    """How many deliveries a second a backfill to this destination may send: a share of
    its rate limit, never more than ``default_per_second`` (a concurrency limit is no
    rate: the default then)."""
    if rate_limit and rate_limit_period in PERIODS:
        return min(default_per_second, SHARE_OF_LIMIT * rate_limit / PERIODS[rate_limit_period])
    return default_per_second


def batch_size(rate: float) -> int:
    """Requests per batch at ``rate`` deliveries a second: what the pace allows in
    ``BATCH_SECONDS``, from one to ``BATCH_MAX``."""
    return max(1, min(BATCH_MAX, math.floor(rate * BATCH_SECONDS)))


def next_batch_at(started_ms: int, delivered: int, rate: float) -> int:
    """When the next batch may start, if the one started at ``started_ms`` made
    ``delivered`` deliveries: not before they have had their time at ``rate``."""
    return started_ms + math.ceil(1000 * delivered / rate)


@dataclass(frozen=True)
class Covered:
    """What an earlier backfill of a connection went through: the source's requests
    from ``since_ms`` up to and including the seek key ``through`` (the last one it
    read), except ``failed``, those it could not queue.  It lives in the job, in the
    configuration log, so it is there before its events reach ClickHouse."""

    since_ms: int
    through: SeekKey
    failed: frozenset[str]

    def holds(self, key: SeekKey) -> bool:
        return self.since_ms <= key[0] and key <= self.through and key[1] not in self.failed


def covered(key: SeekKey, ranges: list[Covered]) -> bool:
    """Whether an earlier backfill of the connection went through this request."""
    return any(r.holds(key) for r in ranges)


def covered_after(
    through: SeekKey | None, failed: list[str], last: SeekKey | None, failed_now: list[str]
) -> tuple[SeekKey | None, list[str]]:
    """A job's covered range and the failed ids it keeps, after a batch whose last
    request is ``last`` (``None``: it read none) and that could not queue
    ``failed_now``.  When those would not fit in ``FAILED_IDS_MAX``, the range stays
    where it was: from then on, what the job routed is found by later backfills in
    ClickHouse only, and what it could not queue is routed by them."""
    if last is None:
        return through, failed
    if len(failed) + len(failed_now) > FAILED_IDS_MAX:
        return through, failed
    return last, failed + failed_now
