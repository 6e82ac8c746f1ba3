"""Timestamps as they travel in records: UTC, millisecond precision, RFC 3339 text.

Formatting only; the time itself is read by the services (``common/clock.py``) and
passed in.
"""

from __future__ import annotations

import time
from datetime import datetime

_second: tuple[int, str] = (-1, "")  # the last whole second formatted, and its text


def iso_ms(epoch_ms: int) -> str:
    """``1700000000123`` -> ``2023-11-14T22:13:20.123Z``.

    On the ingest hot path: the date and time part is formatted once per second.
    """
    global _second
    second, millis = divmod(epoch_ms, 1000)
    cached = _second  # one read: threads swap the whole pair, never half of it
    if cached[0] != second:
        cached = _second = (second, time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second)))
    return f"{cached[1]}{millis:03d}Z"


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
