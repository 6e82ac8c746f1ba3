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

    def wait(self, now: float) -> float:
        """Seconds until a delivery may start; 0 means now (and takes the slot)."""
        if now < self._next:
            return self._next - now
        self._next = now + self.spacing
        return 0.0


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
