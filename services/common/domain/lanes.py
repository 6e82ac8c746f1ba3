"""Ordered delivery's lanes: the events of one connection with one ordering key, one at
a time, in the order their requests were accepted.  Pure: the deliverer
(``deliverer/lanes.py``) reads the records, starts what a lane lets start, keeps the
state a lane writes in the compacted ``lanes`` topic, and gives it back after a restart.

A lane has a *head* — the event being attempted, or waiting for its next automatic
attempt — and behind it the events read since, in order.  The next one starts only when
the head ended for good: delivered, failed for good (dead-lettered) or cancelled.  A
lane never waits for another: each keeps its own head.

Order is the request's position on ``requests`` (``Delivery.sequence``: partition,
offset), which the router routes in order.  A record whose position a lane has already
taken is a repeat — the router routed its request again after a crash, or the deliverer
reads its partition again after one — and is skipped: it is the same event (the same id)
as the one taken, and it is, or will be, delivered once as that one.

What a lane writes (:meth:`Lane.record`) is how far it is done and its head's retry
state, so that after a restart nothing done is delivered again (the head whose attempt
was on its way may be: at least once) and the head keeps its attempt count and schedule.
The next event of a key starts only once the record saying its head ended is
acknowledged (:meth:`Lanes.ended`, :meth:`Lanes.settled`): an event is never delivered
again after a later one of its key.

Memory is bounded: a lane keeps at most ``QUEUE_MAX`` events behind its head, and all
lanes together ``HELD_MAX``; the ones after those stay on ``ordered`` (their offsets
uncommitted) and are read again from there once the lane has room (:class:`Reread`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

R = TypeVar("R")
Seq = tuple[int, int]  # the request's partition and offset on ``requests``

QUEUE_MAX = 200  # events kept in memory behind one lane's head
HELD_MAX = 50_000  # and behind all the heads of one process


@dataclass(eq=False, slots=True)
class Entry(Generic[R]):
    """One event of lane ``lane``, as read from ``ordered`` (at ``offset``); ``ref`` is
    what the adapter delivers it from (its record)."""

    lane: str
    seq: Seq
    event_id: str
    offset: int
    ref: R
    shown: bool = False  # its event row says what it waits for


@dataclass(slots=True)
class Head:
    """The event a lane's others wait for, and where its attempts stand."""

    seq: Seq
    event_id: str
    attempt: int = 1
    trigger: str = "INITIAL"
    not_before: str | None = None
    blocked_since_ms: int | None = None  # since its first failed attempt

    @property
    def blocked(self) -> bool:
        return self.blocked_since_ms is not None


@dataclass(slots=True)
class Lane(Generic[R]):
    id: str
    partition: int  # of ``ordered`` (and of ``lanes``)
    done: dict[int, int] = field(default_factory=dict)  # requests partition -> offset
    seen: dict[int, int] = field(default_factory=dict)  # taken, kept or not
    kept: dict[int, int] = field(default_factory=dict)  # taken and in memory
    head: Head | None = None
    entry: Entry[R] | None = None  # the head's record once read
    queue: deque[Entry[R]] = field(default_factory=deque)
    spilled: tuple[int, int] | None = None  # first and last offsets not kept
    done_offset: int = -1  # on ``ordered``, of the last event done
    closing: bool = False  # the head ended; the record saying so is not acknowledged yet
    touched_ms: int = 0

    def record(self) -> dict[str, Any]:
        head = None
        if self.head is not None and self.head.blocked and not self.closing:
            h = self.head
            head = {
                "seq": list(h.seq),
                "event_id": h.event_id,
                "attempt": h.attempt,
                "trigger": h.trigger,
                "not_before": h.not_before,
                "blocked_since_ms": h.blocked_since_ms,
            }
        done = {str(p): o for p, o in self.done.items()}
        return {"done": done, "head": head, "offset": self.done_offset}

    @property
    def idle(self) -> bool:
        return self.head is None and not self.queue and self.spilled is None


@dataclass
class Skip:
    """A repeat of an event the lane already took: done with."""


@dataclass
class Start(Generic[R]):
    """Attempt this entry now (with its head's attempt count and schedule)."""

    entry: Entry[R]
    head: Head


@dataclass
class Wait:
    """Kept behind ``head``; ``show``: its event row should name what it waits for."""

    head: Head
    show: bool


@dataclass
class Spill:
    """Not kept in memory: read again from ``ordered`` when the lane has room."""


@dataclass
class Reread:
    """Read ``ordered`` partition ``partition`` from ``first`` to ``last`` again for the
    lane's events (:meth:`Lanes.refill`)."""

    lane: str
    partition: int
    first: int
    last: int


Offer = Skip | Start[R] | Wait | Spill
Next = Start[R] | Reread | None


def _after(seq: Seq, marks: dict[int, int]) -> bool:
    return seq[1] > marks.get(seq[0], -1)


def _mark(marks: dict[int, int], seq: Seq) -> None:
    if _after(seq, marks):
        marks[seq[0]] = seq[1]


class Lanes(Generic[R]):
    """Every lane of the ``ordered`` partitions this process holds."""

    def __init__(self, queue_max: int = QUEUE_MAX, held_max: int = HELD_MAX) -> None:
        self.queue_max = queue_max
        self.held_max = held_max
        self.count = 0  # entries in the queues
        self.lanes: dict[str, Lane[R]] = {}
        self.dirty: set[str] = set()  # lanes whose record changed since :meth:`changed`

    # -- records read ------------------------------------------------------------------
    def offer(self, partition: int, entry: Entry[R], now_ms: int) -> Offer[R]:
        lane = self.lanes.get(entry.lane)
        if lane is None:
            lane = self.lanes[entry.lane] = Lane(entry.lane, partition)
        lane.touched_ms = now_ms
        if not _after(entry.seq, lane.seen):
            head = lane.head
            if head is not None and head.seq == entry.seq and lane.entry is None:
                lane.entry = entry  # the restored head's own record, read again
                _mark(lane.kept, entry.seq)
                return Start(entry, head)
            return Skip()
        _mark(lane.seen, entry.seq)
        if lane.spilled is not None:
            lane.spilled = (lane.spilled[0], entry.offset)
            return Spill()
        if lane.head is None:
            return self._start(lane, entry)
        if len(lane.queue) >= self.queue_max or self.count >= self.held_max:
            lane.spilled = (entry.offset, entry.offset)
            return Spill()
        lane.queue.append(entry)
        self.count += 1
        _mark(lane.kept, entry.seq)
        entry.shown = lane.head.blocked
        return Wait(lane.head, entry.shown)

    def refill(self, lane_id: str, entries: list[Entry[R]], read_through: int) -> Next[R]:
        """What a :class:`Reread` found (the lane's entries, in order, up to the queue's
        room) and the offset it read through; what to start then."""
        lane = self.lanes.get(lane_id)
        if lane is None or lane.spilled is None:
            return None
        last = lane.spilled[1]
        started: Start[R] | None = None
        for entry in entries:
            if not (_after(entry.seq, lane.kept) and _after(entry.seq, lane.done)):
                continue
            if lane.head is None and not lane.queue:  # a head takes no room
                started = self._start(lane, entry)
                continue
            if len(lane.queue) >= self.queue_max or self.count >= self.held_max:
                lane.spilled = (entry.offset, last)  # no room: the rest later
                return started or self._next(lane)
            lane.queue.append(entry)
            self.count += 1
            _mark(lane.kept, entry.seq)
        lane.spilled = None if read_through >= last else (read_through + 1, last)
        return started or self._next(lane)

    # -- outcomes ----------------------------------------------------------------------
    def retrying(
        self, entry: Entry[R], attempt: int, trigger: str, not_before: str | None, now_ms: int
    ) -> list[Entry[R]]:
        """The head ``entry`` waits for its next attempt; returns the entries behind it
        whose event rows should now name what they wait for."""
        lane = self._holding(entry)
        if lane is None or lane.head is None:
            return []
        head = lane.head
        head.attempt, head.trigger, head.not_before = attempt, trigger, not_before
        if head.blocked_since_ms is None:
            head.blocked_since_ms = now_ms
        self.dirty.add(lane.id)
        unshown = [e for e in lane.queue if not e.shown]
        for e in unshown:
            e.shown = True
        return unshown

    def ended(self, entry: Entry[R]) -> None:
        """The head ``entry`` ended for good.  The lane's record says so from now on, but
        the lane stays held by ``entry`` until :meth:`settled`: the next event of the key
        must not start before that record is acknowledged, or a crash in between would
        deliver ``entry`` again after it."""
        lane = self._holding(entry)
        if lane is None:
            return
        _mark(lane.done, entry.seq)
        lane.done_offset = max(lane.done_offset, entry.offset)
        lane.closing = True
        self.dirty.add(lane.id)

    def settled(self, entry: Entry[R]) -> Next[R]:
        """The record that says ``entry`` ended is acknowledged: what to start next
        (``None``: nothing, or the lane is no longer this process's)."""
        lane = self._holding(entry)
        if lane is None or not lane.closing:
            return None
        lane.head = lane.entry = None
        lane.closing = False
        return self._next(lane)

    def _holding(self, entry: Entry[R]) -> Lane[R] | None:
        """``entry``'s lane while ``entry`` is its head (not after the lane was dropped,
        even when this process holds its partition again since)."""
        lane = self.lanes.get(entry.lane)
        return lane if lane is not None and lane.entry is entry else None

    def _start(self, lane: Lane[R], entry: Entry[R]) -> Start[R]:
        lane.head = Head(entry.seq, entry.event_id)
        lane.entry = entry
        _mark(lane.kept, entry.seq)
        return Start(entry, lane.head)

    def _next(self, lane: Lane[R]) -> Next[R]:
        if lane.head is not None:
            return None
        if lane.queue:
            self.count -= 1
            return self._start(lane, lane.queue.popleft())
        if lane.spilled is not None:
            return Reread(lane.id, lane.partition, *lane.spilled)
        return None

    # -- state -------------------------------------------------------------------------
    def changed(self) -> list[tuple[str, int, dict[str, Any]]]:
        """The records of lanes changed since the last call: (lane, partition, record)."""
        out = [
            (lane_id, self.lanes[lane_id].partition, self.lanes[lane_id].record())
            for lane_id in self.dirty
            if lane_id in self.lanes
        ]
        self.dirty.clear()
        return out

    def restore(self, partition: int, records: dict[str, dict[str, Any]], now_ms: int) -> None:
        """The lanes of ``partition`` as their last records left them, touched now (so
        that none is forgotten before the records after the commit are read again)."""
        self.drop({partition})
        for lane_id, record in records.items():
            lane: Lane[R] = Lane(lane_id, partition)
            lane.done = {int(p): int(o) for p, o in (record.get("done") or {}).items()}
            lane.done_offset = int(record.get("offset", -1))
            lane.seen, lane.kept = dict(lane.done), dict(lane.done)
            lane.touched_ms = now_ms
            head = record.get("head")
            if head:
                seq = (int(head["seq"][0]), int(head["seq"][1]))
                lane.head = Head(
                    seq,
                    str(head["event_id"]),
                    int(head["attempt"]),
                    str(head["trigger"]),
                    head.get("not_before"),
                    int(head["blocked_since_ms"]),
                )
                _mark(lane.seen, seq)
            self.lanes[lane_id] = lane

    def drop(self, partitions: set[int]) -> list[Lane[R]]:
        """Forget the lanes of partitions this process no longer holds."""
        gone = [lane for lane in self.lanes.values() if lane.partition in partitions]
        for lane in gone:
            del self.lanes[lane.id]
            self.dirty.discard(lane.id)
            self.count -= len(lane.queue)
        return gone

    def forget_idle(self, before_ms: int, committed: dict[int, int]) -> list[Lane[R]]:
        """Forget lanes idle since before ``before_ms``; return those whose record may go
        too: their last event done lies below their partition's committed offset, so no
        record of theirs is read again.  The others keep their record (a restart reads
        it back, and a lane restored idle is forgotten again later): a key blocked on a
        partition holds its commit, and must not pin every other key in memory."""
        gone = [
            lane
            for lane in self.lanes.values()
            if lane.idle and lane.touched_ms < before_ms and lane.id not in self.dirty
        ]
        for lane in gone:
            del self.lanes[lane.id]
        return [lane for lane in gone if lane.done_offset < committed.get(lane.partition, -1)]

    # -- what is blocked ---------------------------------------------------------------
    def blocked(self) -> list[Lane[R]]:
        return [lane for lane in self.lanes.values() if lane.head and lane.head.blocked]

    def held(self) -> int:
        return self.count
