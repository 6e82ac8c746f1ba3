"""Timestamps as providers send them: text, in seconds or in milliseconds since the epoch
(Front, Courier and HubSpot send milliseconds, Zoom and Akeneo seconds), and whether one
is within a tolerance of now.  Only up to 20 ASCII digits are a timestamp:
``str.isdigit`` alone also accepts characters such as ``²`` that ``int`` refuses, and
``int`` refuses more than 4300 digits; either would raise instead of answering."""

from __future__ import annotations

from hookhouse.common.domain.providers.base import TOLERANCE_SECONDS

# 13 digits of seconds is the year 33658; 13 digits of milliseconds is since 2001.
MILLISECOND_DIGITS = 13
MAX_DIGITS = 20


def seconds(stamp: str) -> float | None:
    """``stamp`` in seconds since the epoch, or None when it is not a timestamp."""
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= MAX_DIGITS):
        return None
    value = int(stamp)
    return value / 1000 if len(stamp) >= MILLISECOND_DIGITS else float(value)


def fresh(stamp: str, now: float, tolerance: float = TOLERANCE_SECONDS) -> bool:
    """Whether ``stamp`` (seconds or milliseconds) is within ``tolerance`` seconds of now,
    before or after it."""
    sent = seconds(stamp)
    return sent is not None and abs(now - sent) <= tolerance
