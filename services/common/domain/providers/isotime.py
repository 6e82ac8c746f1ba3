"""Timestamps that providers send as ISO 8601 text rather than epoch seconds: Twitch's
RFC 3339 (nanoseconds, ``Z``) and Orb's (no zone, which Orb means as UTC)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# datetime reads at most microseconds; Twitch sends nanoseconds.
_FRACTION = re.compile(r"(\.\d{6})\d+")


def epoch_seconds(text: str) -> float | None:
    """``text`` as seconds since the epoch (no zone: UTC), or None when it is no timestamp."""
    if not text or len(text) > 64:
        return None
    try:
        moment = datetime.fromisoformat(_FRACTION.sub(r"\1", text.strip(), count=1))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
