"""Ordered delivery in the deliverer: the records of topic ``ordered`` go through the
lanes of ``domain/lanes.py`` — one head per key, the rest behind it — instead of
straight to a push.

- A lane's state lives in the compacted topic ``lanes``, partition n for the keys of
  ``ordered`` partition n, written in the same acknowledged group as the attempt rows
  that changed it (:meth:`Ordering.write`).  When this process is given ``ordered``
  partitions it reads theirs to the end first (:meth:`Ordering.restore`, on the
  consumer's thread); when they are taken away it forgets their lanes.
- A head that failed does not go to a retry tier: it keeps its record (uncommitted)
  and a timer here, and the lane's record its attempt count and due time, so a restart
  or another process resumes it on the same schedule.  A head cancelled through the
  API while it waits ends at once (:meth:`Ordering.tick`).
- The events behind a blocked head get an event row with status ``HOLD`` and
  ``waiting_for`` (the head's id).
- A lane whose memory is full leaves the rest on ``ordered`` and reads them again
  later with a consumer of its own (:func:`read_range`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson
from confluent_kafka import KafkaError, TopicPartition
from confluent_kafka import Message as Record

from hookhouse.common import metrics, topics
from hookhouse.common.clock import now_ms
from hookhouse.common.compacted import read_to_end, reader
from hookhouse.common.domain.lanes import Entry, Head, Lanes, Reread, Skip, Spill, Start, Wait
from hookhouse.common.domain.ordering import lane_of
from hookhouse.common.domain.records import Delivery, EventRow
from hookhouse.common.domain.times import parse_iso
from hookhouse.common.kafka import SendGroup
from hookhouse.common.settings import Settings

log = logging.getLogger(__name__)

FORGET_IDLE_AFTER_MS = 15 * 60 * 1000  # a lane with nothing to do, kept this long
REREAD_AGAIN_SECONDS = 1.0  # when a lane read again found no room for its events
POSITION_LIMIT = 2**63  # a Kafka offset (and partition) fits in 64 bits

Started = Callable[[Entry[Record], Head], None]


def entry_of(msg: Record) -> tuple[Entry[Record], Delivery]:
    """The lane entry of an ``ordered`` record (raises ValueError, TypeError or
    orjson.JSONDecodeError for one that is not an ordered delivery)."""
    delivery = Delivery.from_dict(orjson.loads(msg.value() or b""))
    sequence = delivery.sequence
    if (
        not isinstance(delivery.ordering_key, str)
        or not isinstance(sequence, list)
        or len(sequence) != 2
        or not all(type(n) is int and 0 <= n < POSITION_LIMIT for n in sequence)
    ):
        raise ValueError("an ordered delivery needs an ordering_key and a sequence")
    seq = (sequence[0], sequence[1])
    return Entry(lane_of(delivery), seq, delivery.event_id, msg.offset() or 0, msg), delivery


class Ordering:
    def __init__(self, settings: Settings, start: Started) -> None:
        self.settings = settings
        self.topic = topics.name(settings, topics.ORDERED)
        self.state_topic = topics.name(settings, topics.LANES)
        self.lanes: Lanes[Record] = Lanes()
        self.start = start
        self.owned: set[int] = set()
        self.timers: dict[str, asyncio.TimerHandle] = {}
        # Heads of paused connections, by lane: started again once unpaused.
        self.parked: dict[str, tuple[Entry[Record], Head]] = {}
        # Assignments and revocations, filled on the consumer's thread and applied on
        # the loop's, in order, before any record of theirs is offered.
        self._changes: list[tuple[set[int], dict[str, dict[str, Any]] | None]] = []
        self._lock = threading.Lock()
        self.rereading: set[str] = set()
        self.last_forget = time.monotonic()

    # -- the consumer's thread ---------------------------------------------------------
    def restore(self, partitions: list[TopicPartition]) -> None:
        for number in sorted({tp.partition for tp in partitions if tp.topic == self.topic}):
            read = read_to_end(self.settings, self.state_topic, {number}, topics.DELIVERER_GROUP)
            records = {key.decode(): orjson.loads(value) for key, value in read.items()}
            with self._lock:
                self._changes.append(({number}, records))
            log.info("restored %d ordering lanes of %s[%d]", len(records), self.topic, number)

    def dropped(self, partitions: list[TopicPartition]) -> None:
        numbers = {tp.partition for tp in partitions if tp.topic == self.topic}
        if numbers:
            with self._lock:
                self._changes.append((numbers, None))

    # -- the loop's thread -------------------------------------------------------------
    def apply_changes(self) -> None:
        if not self._changes:
            return
        with self._lock:
            changes, self._changes = self._changes, []
        for numbers, records in changes:
            for lane in self.lanes.drop(numbers):
                self.cancel_timer(lane.id)
                self.parked.pop(lane.id, None)
            if records is None:
                self.owned -= numbers
                continue
            self.owned |= numbers
            for number in numbers:
                self.lanes.restore(number, records, now_ms())

    def offer(self, msg: Record, sends: SendGroup) -> Record | None:
        """Take an ``ordered`` record; returns it when it is done with already (a
        repeat, or a partition no longer this process's)."""
        self.apply_changes()
        partition = msg.partition() or 0
        if partition not in self.owned:
            return msg  # read before a revoke: its new owner reads it again
        entry, delivery = entry_of(msg)
        match self.lanes.offer(partition, entry, now_ms()):
            case Skip():
                metrics.ORDERING_REPEATS.inc()
                return msg
            case Start(entry=started, head=head):
                self.start(started, head)
            case Wait(head=head, show=show):
                if show:
                    self.show_waiting(sends, [(delivery, head.event_id)])
            case Spill():
                pass
        return None

    def show_waiting(self, sends: SendGroup, waiting: list[tuple[Delivery, str]]) -> None:
        records = topics.name(self.settings, topics.RECORDS)
        for delivery, head in waiting:
            row = EventRow.of(delivery, "HOLD", now_ms(), waiting_for=head)
            sends.send(records, orjson.dumps(row), row.id, [("kind", b"event")])

    def retrying(self, entry: Entry[Record], retry: Delivery, sends: SendGroup) -> None:
        """The head ``entry`` failed; its next attempt is ``retry``, due at its
        ``not_before``."""
        behind = self.lanes.retrying(
            entry, retry.attempt, retry.trigger, retry.not_before, now_ms()
        )
        if behind:
            self.show_waiting(sends, [(entry_of(e.ref)[1], entry.event_id) for e in behind])
        self.later(entry, retry.not_before)

    def later(self, entry: Entry[Record], not_before: str | None, otherwise: float = 0) -> None:
        """Start the head ``entry`` again at ``not_before`` when that is to come, else
        in ``otherwise`` seconds."""
        due = parse_iso(not_before).timestamp() - time.time() if not_before else 0.0
        seconds = due if due > 0 else otherwise
        lane = self.lanes.lanes.get(entry.lane)
        if lane is None or lane.entry is not entry or lane.head is None:
            return
        head = lane.head
        self.cancel_timer(entry.lane)
        self.timers[entry.lane] = asyncio.get_running_loop().call_later(
            max(0.0, seconds), self._due, entry, head
        )

    def _due(self, entry: Entry[Record], head: Head) -> None:
        self.timers.pop(entry.lane, None)
        self.apply_changes()  # a revoke drops the lane (and this timer with it)
        lane = self.lanes.lanes.get(entry.lane)
        if lane is not None and lane.entry is entry:
            self.start(entry, head)

    def park(self, entry: Entry[Record], head: Head) -> None:
        """Hold the head ``entry`` while its connection is paused (:meth:`tick`)."""
        self.parked[entry.lane] = (entry, head)

    def cancel_timer(self, lane: str) -> None:
        timer = self.timers.pop(lane, None)
        if timer is not None:
            timer.cancel()

    def ended(self, entry: Entry[Record]) -> None:
        """The head ``entry`` ended for good (its lane's record says so from the next
        write; the lane stays held until :meth:`settled`)."""
        self.cancel_timer(entry.lane)
        self.lanes.ended(entry)

    def settled(self, entry: Entry[Record]) -> Reread | None:
        """The write saying ``entry`` ended is acknowledged: start the next of its lane,
        or say what to read again."""
        self.apply_changes()
        following = self.lanes.settled(entry)
        if isinstance(following, Start):
            self.start(following.entry, following.head)
            return None
        return following

    async def reread(self, reread: Reread) -> None:
        """Read a spilled lane's events again until it has them or a head to attempt."""
        if reread.lane in self.rereading:
            return
        self.rereading.add(reread.lane)
        try:
            following: Reread | Start[Record] | None = reread
            while isinstance(following, Reread):
                if following is not reread:  # no room for any of them yet
                    await asyncio.sleep(REREAD_AGAIN_SECONDS)
                    self.apply_changes()
                found, through = await asyncio.to_thread(
                    read_range, self.settings, self.topic, following, self.lanes.queue_max
                )
                entries = []
                for msg in found:
                    try:
                        entries.append(entry_of(msg)[0])
                    except (orjson.JSONDecodeError, TypeError, ValueError):
                        continue  # delivered unordered when it was first read
                following = self.lanes.refill(following.lane, entries, through)
        finally:
            self.rereading.discard(reread.lane)
        if isinstance(following, Start):
            self.start(following.entry, following.head)

    def write(self, sends: SendGroup) -> None:
        """Send the records of the lanes changed since the last call (into the group
        that holds the attempt rows which changed them)."""
        for lane, partition, record in self.lanes.changed():
            sends.send(self.state_topic, orjson.dumps(record), lane, partition=partition)

    def tick(
        self,
        muted: Callable[[str], bool],
        paused: Callable[[str], bool],
        committed: dict[int, int],
        sends: SendGroup,
    ) -> None:
        """Once a second: start the heads of connections unpaused meanwhile, end the
        waits of heads cancelled meanwhile, publish what is blocked, and forget lanes
        idle for long."""
        self.apply_changes()  # revokes, even when no record of ``ordered`` comes
        now = now_ms()
        for lane_id, (parked, head) in list(self.parked.items()):
            if not paused(parked.lane.split(":", 1)[0]):
                del self.parked[lane_id]
                lane = self.lanes.lanes.get(lane_id)
                if lane is not None and lane.entry is parked:
                    self.start(parked, head)
        blocked = self.lanes.blocked()
        for lane in blocked:
            entry = lane.entry
            if entry is not None and lane.id in self.timers and muted(entry.event_id):
                self.later(entry, None)  # now: the attempt finds it cancelled
        metrics.ORDERING_BLOCKED_KEYS.set(len(blocked))
        since = [lane.head.blocked_since_ms or now for lane in blocked if lane.head]
        metrics.ORDERING_BLOCKED_SECONDS.set((now - min(since)) / 1000 if since else 0)
        metrics.ORDERING_WAITING_EVENTS.set(self.lanes.held())
        if time.monotonic() - self.last_forget > 60:
            self.last_forget = time.monotonic()
            for lane in self.lanes.forget_idle(now - FORGET_IDLE_AFTER_MS, committed):
                sends.send(self.state_topic, None, lane.id, partition=lane.partition)


def read_range(
    settings: Settings, topic: str, reread: Reread, most: int
) -> tuple[list[Record], int]:
    """Records of lane ``reread.lane`` on ``topic`` partition ``reread.partition`` from
    ``first`` through ``last`` (at most ``most``), and the offset read through."""
    consumer = reader(settings, f"{topics.DELIVERER_GROUP}-reread")
    found: list[Record] = []
    through = reread.first - 1
    lane = reread.lane.encode()
    try:
        consumer.assign([TopicPartition(topic, reread.partition, reread.first)])
        deadline = time.monotonic() + 60
        while through < reread.last and len(found) < most:
            msg = consumer.poll(1.0)
            if msg is None:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"reading {topic}[{reread.partition}] stalled")
                continue
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    break
                raise RuntimeError(f"reading {topic}: {error}")
            offset = msg.offset() or 0
            if offset > reread.last:
                break  # the main reader offers those itself
            through = offset
            if msg.key() == lane:
                found.append(msg)
    finally:
        consumer.close()
    return found, through
