"""The services' one clock: the time the domain is given (``domain/times.py`` formats it)."""

from __future__ import annotations

import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000
