"""The router's deduplication memory played over stored requests, on the times they
were received rather than the clock: a backfill routes them in that order, and a
backtest tries rules on them.  Pure; bounded."""

from __future__ import annotations

from collections import OrderedDict

from hookhouse.common.domain.routing import SeenBefore

# Keys remembered (the oldest are forgotten first).
DEDUP_MEMORY_MAX = 100_000


class DedupMemory:
    """A key is a duplicate while the window its first request opened lasts, as in the
    router (``router/dedup.py``); bounded to ``DEDUP_MEMORY_MAX`` keys.  It lives in
    the caller's memory only: the router's counts live time in the router's process."""

    def __init__(self, limit: int = DEDUP_MEMORY_MAX) -> None:
        self.limit = limit
        self.seen: OrderedDict[tuple[str, str], int] = OrderedDict()

    def at(self, received_ms: int) -> SeenBefore:
        """The ``seen_before`` of ``routing.route`` for a request received then."""

        def seen_before(connection_id: str, key: str, window_ms: int) -> bool:
            entry = (connection_id, key)
            last = self.seen.get(entry)
            if last is not None and 0 <= received_ms - last < window_ms:
                return True
            self.seen[entry] = received_ms
            self.seen.move_to_end(entry)
            while len(self.seen) > self.limit:
                self.seen.popitem(last=False)
            return False

        return seen_before
