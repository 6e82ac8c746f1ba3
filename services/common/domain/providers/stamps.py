"""Timestamps as providers send them: text, in seconds or in milliseconds since the epoch
(Front, Courier and HubSpot send milliseconds, Zoom, Stripe and Slack seconds), or ISO
8601 (Twitch, Orb), and whether one is within a tolerance of now.  Only up to 20 ASCII
digits are a timestamp: ``str.isdigit`` alone also accepts characters such as ``²``
that ``int`` refuses, and ``int`` refuses more than 4300 digits; either would raise
instead of answering."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from hookhouse.common.domain.providers.base import TOLERANCE_SECONDS

# 13 digits of seconds is the year 33658; 13 digits of milliseconds is since 2001.
MILLISECOND_DIGITS = 13
MAX_DIGITS = 20
# datetime reads at most microseconds; Twitch sends nanoseconds.
_FRACTION = re.compile(r"(\.\d{6})\d+")


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


def iso_seconds(text: str) -> float | None:
    """ISO 8601 ``text`` (Twitch's RFC 3339 with nanoseconds; Orb's without a zone, which
    Orb means as UTC) as seconds since the epoch, or None when it is no timestamp."""
    if not text or len(text) > 64:
        return None
    try:
        moment = datetime.fromisoformat(_FRACTION.sub(r"\1", text.strip(), count=1))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
