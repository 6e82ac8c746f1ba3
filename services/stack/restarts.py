"""How long the supervisor waits before it starts again a child that exited.

The wait doubles while the child keeps failing (1 s, 2 s, 4 s … at most 30 s), so a
service that cannot start does not spin, and starts over at 1 s once the child ran a
healthy minute: a crash after days up is restarted as fast as the first one.  Pure: the
time is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

FIRST_DELAY_SECONDS = 1.0
MOST_DELAY_SECONDS = 30.0
HEALTHY_SECONDS = 60.0


@dataclass
class Backoff:
    failures: int = 0  # exits in a row, each before the child ran HEALTHY_SECONDS
    started_at: float | None = None

    def started(self, now: float) -> None:
        self.started_at = now

    def exited(self, now: float) -> float:
        """The child exited at ``now``: the seconds to wait before starting it again."""
        if self.started_at is not None and now - self.started_at >= HEALTHY_SECONDS:
            self.failures = 0
        self.failures += 1
        doublings = min(self.failures - 1, 16)  # past the cap anyway; bounds the power
        return min(FIRST_DELAY_SECONDS * float(2**doublings), MOST_DELAY_SECONDS)
