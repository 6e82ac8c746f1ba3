"""Per-destination rate limits; pure, with the clock passed in.

``rate_limit`` deliveries per ``rate_limit_period`` (second, minute or hour), spaced
evenly by period/limit (a generic cell rate algorithm with no burst allowance), so any
window of one period holds at most ``limit`` starts, plus one at its edge.
``concurrent`` caps deliveries in flight instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}


@dataclass
class RateLimiter:
    limit: int
    period_seconds: float
    _next: float = field(default=0.0)  # the earliest start of the next delivery

    @property
    def spacing(self) -> float:
        return self.period_seconds / self.limit

    def reserve(self, now: float, max_wait: float) -> float | None:
        """Take the next free start slot if it is at most ``max_wait`` away.

        Returns the seconds to wait for it (0: start now), or ``None`` when the next
        slot is further away than that (nothing is taken).  Slots go out in order, so
        waiting deliveries start first come, first served.
        """
        slot = max(self._next, now)
        if slot - now > max_wait:
            return None
        self._next = slot + self.spacing
        return slot - now


@dataclass
class ConcurrencyLimit:
    limit: int
    in_flight: int = 0

    def try_acquire(self) -> bool:
        if self.in_flight >= self.limit:
            return False
        self.in_flight += 1
        return True

    def release(self) -> None:
        self.in_flight = max(0, self.in_flight - 1)
