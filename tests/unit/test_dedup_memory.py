"""The deduplication memory backfills and backtests play over stored requests."""

from __future__ import annotations

from hookhouse.common.domain.dedup import DedupMemory

NOW = 1_796_515_200_000  # 2026-12-06T00:00:00Z
HOUR = 3_600_000


def test_the_dedup_memory_drops_duplicates_within_the_window_by_received_time() -> None:
    memory = DedupMemory()
    assert memory.at(NOW)("web_1", "k", 60_000) is False
    assert memory.at(NOW + 59_999)("web_1", "k", 60_000) is True
    assert memory.at(NOW + 59_999)("web_2", "k", 60_000) is False  # per connection
    assert memory.at(NOW + 60_000)("web_1", "k", 60_000) is False  # out of the window
    assert memory.at(NOW + 60_001)("web_1", "k", 60_000) is True  # a new window from there


def test_the_dedup_memory_is_bounded() -> None:
    memory = DedupMemory(limit=3)
    for n in range(5):
        memory.at(NOW + n)("web_1", f"k{n}", HOUR)
    assert len(memory.seen) == 3
    assert memory.at(NOW + 5)("web_1", "k0", HOUR) is False  # forgotten, the oldest first
    assert memory.at(NOW + 5)("web_1", "k4", HOUR) is True
