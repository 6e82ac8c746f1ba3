"""What one tenant's blocked keys do to everyone else's lanes in memory, without a
broker (``domain/lanes.py``, ``deliverer/lanes.py``): they take no other key's next
event hostage, a lane read again without room does not stop the deliverer, and keys
that went by are forgotten however long another key stays blocked."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import hookhouse.deliverer.lanes as adapter
from hookhouse.common.domain.lanes import Entry, Lanes, Reread, Spill, Start, Wait
from hookhouse.common.settings import Settings


def entry(lane: str, offset: int) -> Entry[str]:
    return Entry(lane, (0, offset), f"evt_{lane}_{offset}", offset, "ref")


def blocked_memory(lanes: Lanes[Any], keys: tuple[str, ...], behind: int) -> int:
    """Blocked heads of ``keys`` with ``behind`` events each behind them; next offset."""
    offset = 0
    for key in keys:
        for n in range(behind + 1):
            got = lanes.offer(0, entry(key, offset), 0)
            offset += 1
            assert isinstance(got, Start if n == 0 else Wait)
        head = lanes.lanes[key].entry
        assert head is not None
        lanes.retrying(head, 2, "AUTOMATIC", None, 0)
    return offset


def test_a_key_starts_its_next_event_while_other_keys_fill_the_memory() -> None:
    lanes: Lanes[str] = Lanes(queue_max=3, held_max=4)
    offset = blocked_memory(lanes, ("web_a:1", "web_a:2"), behind=2)
    assert lanes.held() == 4  # all of it
    first, second = entry("web_b:1", offset), entry("web_b:1", offset + 1)
    assert isinstance(lanes.offer(0, first, 0), Start)
    assert isinstance(lanes.offer(0, second, 0), Spill)  # no room: left on the topic
    lanes.ended(first)
    reread = lanes.settled(first)
    assert isinstance(reread, Reread)
    again = lanes.refill("web_b:1", [second], second.offset)
    assert isinstance(again, Start) and again.entry is second  # a head takes no room


def test_a_lane_read_again_without_room_does_not_stop_the_deliverer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each round without room used to await the next one inside it: after ~1,000
    rounds (17 minutes of full memory) a RecursionError stopped the deliverer."""
    ordering = adapter.Ordering(Settings(), lambda entry, head: None)
    lanes: Lanes[Any] = Lanes(queue_max=3, held_max=1)
    ordering.lanes, ordering.owned = lanes, {0}
    blocked_memory(lanes, ("web_a:1",), behind=1)
    first, second = entry("web_b:1", 10), entry("web_b:1", 11)
    lanes.offer(0, first, 0)
    lanes.offer(0, second, 0)  # no room
    lanes.ended(first)
    # the lane's queue is empty but a head ended: the spilled one is never found again
    # by this fake reader, so every round finds no room
    reread = lanes.settled(first)
    assert isinstance(reread, Reread)
    monkeypatch.setattr(adapter, "REREAD_AGAIN_SECONDS", 0)
    monkeypatch.setattr(adapter, "read_range", lambda *_: ([], reread.first - 1))
    rounds = 0

    async def rounds_then_stop() -> None:
        nonlocal rounds
        task = asyncio.create_task(ordering.reread(reread))
        while rounds < 3000 and not task.done():
            rounds += 1
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(rounds_then_stop())
    assert rounds == 3000


def test_keys_that_went_by_are_forgotten_while_another_stays_blocked() -> None:
    lanes: Lanes[str] = Lanes()
    blocked_memory(lanes, ("web_a:stuck",), behind=0)
    for n in range(1, 5001):
        one = entry(f"web_b:key-{n}", n)
        assert isinstance(lanes.offer(0, one, 0), Start)
        lanes.ended(one)
        lanes.settled(one)
    lanes.changed()
    # the blocked head holds the partition's commit at its offset, 0
    tombstoned = lanes.forget_idle(before_ms=1, committed={0: 0})
    assert list(lanes.lanes) == ["web_a:stuck"]  # the rest left memory
    assert tombstoned == []  # but keep their records: they may be read again
