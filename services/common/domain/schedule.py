"""Where a delivery waits until it is due; pure.

Each retry tier is a topic with a fixed delay: a record is read from tier T no sooner
than its append time plus T's delay, so the head of every tier partition is always the
first to become ready (no head-of-line waiting).  A record waits in the largest tier
whose delay fits in the time it still has to wait, and cascades down; the last
seconds, shorter than the smallest tier, are waited in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

NOW = "now"
TIMER = "timer"


@dataclass(frozen=True)
class Placement:
    where: str  # NOW, TIMER, or a tier name
    seconds: float  # how long it will wait there


def place(remaining: float, tiers: tuple[tuple[str, int], ...]) -> Placement:
    """Where a delivery that is due in ``remaining`` seconds should wait."""
    if remaining <= 0:
        return Placement(NOW, 0.0)
    fitting = [(name, delay) for name, delay in tiers if delay <= remaining]
    if not fitting:
        return Placement(TIMER, remaining)
    name, delay = max(fitting, key=lambda tier: tier[1])
    return Placement(name, float(delay))


def tier_delays(prefix: str, tiers: tuple[tuple[str, int], ...]) -> dict[str, float]:
    """The fixed delay of each retry-tier topic, by topic name."""
    return {f"{prefix}retry.{name}": float(delay) for name, delay in tiers}
