"""What an attempt's result means and what follows it; pure.

The deliverer pushes a delivery, reads the clock once, and hands everything else the
decision needs to :func:`after_attempt`: the push's result, the connection's retry
policy, whether the event is muted now, the time, and the new attempt's id.  It gets
back the attempt's row (which carries the event's new status) and the one thing that
follows: a retry with its due time, a dead letter, or nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from hookhouse.common.domain.records import AttemptRow, Delivery
from hookhouse.common.domain.retry import MAX_AGE_SECONDS, RetryPolicy, retry_after_seconds
from hookhouse.common.domain.times import iso_ms, parse_iso

# Triggers of deliveries a user asked for (a backfill's are new events, as live ones).
BY_HAND = ("MANUAL", "BULK_RETRY")


@dataclass(frozen=True)
class Outcome:
    status: str  # SUCCESSFUL or FAILED
    error_code: str  # "" when successful


def classify(response_status: int | None, error_code: str) -> Outcome:
    """2xx is success; anything else (an error code, or a non-2xx answer) is a failure."""
    if error_code:
        return Outcome("FAILED", error_code)
    if response_status is not None and 200 <= response_status < 300:
        return Outcome("SUCCESSFUL", "")
    return Outcome("FAILED", "BAD_RESPONSE")


@dataclass(frozen=True)
class Pushed:
    """What one push to a destination came to: its answer, or why there was none."""

    status: int | None  # the answer's status; None when there was no answer
    error_code: str  # why there was no answer (TIMEOUT, SSRF_BLOCKED...); "" if there was
    headers: dict[str, str]  # the answer's, by lower-case name
    body: str  # the start of the answer's body, or the error's text
    url: str  # as shown in the attempt (credentials masked)
    method: str
    started_ms: int
    duration_ms: int


@dataclass(frozen=True)
class Retry:
    """Try again: ``delivery`` is the next attempt, due at ``due_ms`` (its not_before)."""

    delivery: Delivery
    due_ms: int


@dataclass(frozen=True)
class DeadLetter:
    """No attempt follows a failure: the delivery is dead-lettered with ``reason``."""

    reason: str


@dataclass(frozen=True)
class Done:
    """Delivered: nothing follows."""


@dataclass(frozen=True)
class Muted:
    """The event was muted while the attempt was on its way: nothing follows, and the
    mute mark, which has stopped what it was set to stop, can go."""


Then = Retry | DeadLetter | Done | Muted


@dataclass(frozen=True)
class AfterAttempt:
    row: AttemptRow  # the attempt, with the event's new status
    then: Then


def mute_stops(delivery: Delivery, event_muted: bool) -> bool:
    """Whether the event's mute (the API cancelled it) stops ``delivery``: it stops the
    automatic ones; deliveries asked for by hand still go."""
    return event_muted and delivery.trigger not in BY_HAND


def after_attempt(
    delivery: Delivery,
    pushed: Pushed,
    policy: RetryPolicy,
    now_ms: int,
    *,
    muted: bool,
    attempt_id: str,
    retry_after_cap: float,
    rng: random.Random | None = None,
) -> AfterAttempt:
    """The row of the attempt that made ``pushed``, and what follows it.

    ``now_ms`` is the time the attempt ended; ``muted`` whether the event's mute stops
    ``delivery`` now (:func:`mute_stops`); ``retry_after_cap`` how far a destination's
    ``Retry-After`` is honoured, in seconds; ``rng`` draws the retry delay's jitter.
    A failure is retried as ``policy`` says, never later than a week after the event;
    a failure that is not is dead-lettered; a muted event's attempt is neither.
    """
    outcome = classify(pushed.status, pushed.error_code)
    then: Then
    if muted:
        then = Muted()
    elif outcome.status == "SUCCESSFUL":
        then = Done()
    else:
        retry = next_attempt(
            delivery, pushed, outcome.error_code, policy, now_ms, retry_after_cap, rng
        )
        then = retry if retry is not None else DeadLetter(outcome.error_code)
    row = AttemptRow(
        id=attempt_id,
        project_id=delivery.project_id,
        event_id=delivery.event_id,
        request_id=delivery.request_id,
        connection_id=delivery.connection_id,
        destination_id=delivery.destination_id,
        created_at=iso_ms(pushed.started_ms),
        attempt_number=delivery.attempt,
        trigger=delivery.trigger,
        status=outcome.status,
        response_status=pushed.status,
        error_code=outcome.error_code,
        response_headers=pushed.headers,
        response_body=pushed.body,
        duration_ms=pushed.duration_ms,
        requested_url=pushed.url,
        http_method=pushed.method,
        source_id=delivery.source_id,
        event_created_at=delivery.created_at,
        event_status="QUEUED" if isinstance(then, Retry) else outcome.status,
        next_attempt_at=then.delivery.not_before if isinstance(then, Retry) else None,
        version=now_ms,
    )
    return AfterAttempt(row, then)


def next_attempt(
    delivery: Delivery,
    pushed: Pushed,
    error_code: str,
    policy: RetryPolicy,
    now_ms: int,
    retry_after_cap: float,
    rng: random.Random | None = None,
) -> Retry | None:
    """The automatic retry of a failed attempt, or ``None`` when there is none: the
    policy's delay, or the destination's ``Retry-After`` when that is longer."""
    if not policy.should_retry(delivery.attempt, pushed.status, error_code):
        return None
    delay = policy.delay(delivery.attempt, rng)
    now = datetime.fromtimestamp(now_ms / 1000, UTC)
    honoured = retry_after_seconds(pushed.headers.get("retry-after"), now, retry_after_cap)
    if honoured is not None:
        delay = max(delay, honoured)
    due_ms = now_ms + int(delay * 1000)
    if due_ms > parse_iso(delivery.created_at).timestamp() * 1000 + MAX_AGE_SECONDS * 1000:
        return None
    retry = replace(
        delivery, attempt=delivery.attempt + 1, trigger="AUTOMATIC", not_before=iso_ms(due_ms)
    )
    return Retry(retry, due_ms)
