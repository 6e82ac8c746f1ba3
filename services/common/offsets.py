"""Contiguous offset commits for records that finish out of order (KAFKA-NOTES C).

Per partition: the offsets taken and not yet done.  The committable position is the
lowest offset still in flight, or one past the highest offset taken when nothing is in
flight, so a slow record never lets a later offset be committed past it.

A position is *committed* once the broker confirmed it.  One sent and not yet confirmed
is *asked*: not asked again, and asked again later if the broker refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PartitionOffsets:
    pending: set[int] = field(default_factory=set)
    next_offset: int | None = None  # one past the highest offset taken
    committed: int | None = None  # confirmed by the broker
    asked: int | None = None  # sent in a commit, not yet confirmed or refused

    def take(self, offset: int) -> None:
        self.pending.add(offset)
        if self.next_offset is None or offset >= self.next_offset:
            self.next_offset = offset + 1

    def done(self, offset: int) -> None:
        self.pending.discard(offset)

    def untake_from(self, offset: int) -> None:
        """Forget ``offset`` and everything after it: they will be read again (a seek)."""
        self.pending = {o for o in self.pending if o < offset}
        if self.next_offset is not None and self.next_offset > offset:
            self.next_offset = offset

    def committable(self, unconfirmed: bool = False) -> int | None:
        """The position to commit now, or ``None`` when nothing new can be committed
        (``unconfirmed``: nor asked and waiting for its answer, unless that is true)."""
        if self.next_offset is None:
            return None
        pending = self.pending.copy()  # whole, under the GIL: done() runs on another thread
        position = min(pending) if pending else self.next_offset
        floor = self.asked if self.asked is not None and not unconfirmed else self.committed
        if floor is not None and position <= floor:
            return None
        return position

    def confirm(self, position: int) -> None:
        if self.committed is None or position > self.committed:
            self.committed = position
        if self.asked is not None and self.asked <= position:
            self.asked = None

    def refuse(self, position: int) -> None:
        if self.asked == position:
            self.asked = None  # committable again at the next commit


@dataclass
class OffsetTracker:
    partitions: dict[tuple[str, int], PartitionOffsets] = field(default_factory=dict)

    def take(self, topic: str, partition: int, offset: int) -> None:
        tracked = self.partitions.get((topic, partition))
        if tracked is None:  # not setdefault: that would build an object per record
            tracked = self.partitions[(topic, partition)] = PartitionOffsets()
        tracked.take(offset)

    def done(self, topic: str, partition: int, offset: int) -> None:
        tracked = self.partitions.get((topic, partition))
        if tracked is not None:
            tracked.done(offset)

    def committable(self, unconfirmed: bool = False) -> dict[tuple[str, int], int]:
        out = {}
        for tp, tracked in list(self.partitions.items()):
            position = tracked.committable(unconfirmed)
            if position is not None:
                out[tp] = position
        return out

    def mark_committed(self, positions: dict[tuple[str, int], int]) -> None:
        """The broker confirmed ``positions`` (a commit that waited)."""
        for tp, position in positions.items():
            if tp in self.partitions:
                self.partitions[tp].confirm(position)

    def ask(self, positions: dict[tuple[str, int], int]) -> None:
        """``positions`` were sent in a commit whose answer comes later."""
        for tp, position in positions.items():
            if tp in self.partitions:
                self.partitions[tp].asked = position

    def answer(self, topic: str, partition: int, position: int, ok: bool) -> None:
        """The broker's answer to a commit of ``position``."""
        tracked = self.partitions.get((topic, partition))
        if tracked is not None:
            if ok:
                tracked.confirm(position)
            else:
                tracked.refuse(position)

    def untake_from(self, topic: str, partition: int, offset: int) -> None:
        tracked = self.partitions.get((topic, partition))
        if tracked is not None:
            tracked.untake_from(offset)

    def forget(self, topic: str, partition: int) -> None:
        """Drop a revoked partition; its uncommitted records will be read again."""
        self.partitions.pop((topic, partition), None)

    @property
    def in_flight(self) -> int:
        return sum(len(p.pending) for p in self.partitions.values())
