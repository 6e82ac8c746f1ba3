"""Contiguous offset commits for records that finish out of order (KAFKA-NOTES C).

Per partition: the offsets taken and not yet done.  The committable position is the
lowest offset still in flight, or one past the highest offset taken when nothing is in
flight, so a slow record never lets a later offset be committed past it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PartitionOffsets:
    pending: set[int] = field(default_factory=set)
    next_offset: int | None = None  # one past the highest offset taken
    committed: int | None = None

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

    def committable(self) -> int | None:
        """The position to commit now, or ``None`` when nothing new can be committed."""
        if self.next_offset is None:
            return None
        position = min(self.pending) if self.pending else self.next_offset
        if self.committed is not None and position <= self.committed:
            return None
        return position


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

    def committable(self) -> dict[tuple[str, int], int]:
        out = {}
        for tp, tracked in self.partitions.items():
            position = tracked.committable()
            if position is not None:
                out[tp] = position
        return out

    def mark_committed(self, positions: dict[tuple[str, int], int]) -> None:
        for tp, position in positions.items():
            if tp in self.partitions:
                self.partitions[tp].committed = position

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
