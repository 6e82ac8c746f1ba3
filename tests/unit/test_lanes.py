"""Ordered delivery's lanes (``domain/lanes.py``), played against a model of the
deliverer: records read from ``ordered`` with the router's repeats among them, attempts
that succeed, fail and are retried, fail for good or are cancelled, lanes' records
written at random moments, crashes that lose everything not written, and small queues
that spill and are read again.  Whatever happens, no event of a key is attempted before
the one ahead of it ended for good, every event ends, and an event whose end was written
is never attempted again."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hookhouse.common.domain.lanes import (
    Entry,
    Lanes,
    Reread,
    Skip,
    Spill,
    Start,
    Wait,
)

Record = tuple[str, tuple[int, int], str]  # lane, sequence, event id


def topic(rng: random.Random, requests: int, lanes: int) -> list[Record]:
    """What the router wrote to one ``ordered`` partition: requests of two ``requests``
    partitions in their order, and now and then a suffix of them again (a router that
    crashed and routed from its last commit)."""
    out: list[Record] = []
    offsets = [0, 0]
    for _ in range(requests):
        p = rng.randrange(2)
        seq = (p, offsets[p])
        offsets[p] += 1 + rng.randrange(3)  # requests of other connections between
        out.append((f"web_1:k{rng.randrange(lanes)}", seq, f"evt_{p}_{seq[1]}"))
        if rng.random() < 0.05:
            out += out[-rng.randrange(1, 6) :]
    return out


@dataclass
class Deliverer:
    """The deliverer as the lanes see it, on one ``ordered`` partition."""

    log: list[Record]
    queue_max: int
    written: dict[str, dict[str, Any]] = field(default_factory=dict)  # topic ``lanes``
    committed: int = 0
    history: list[tuple[str, str, str]] = field(default_factory=list)  # (what, lane, event)

    def __post_init__(self) -> None:
        self.boot()

    def boot(self) -> None:
        self.lanes: Lanes[int] = Lanes(self.queue_max, held_max=self.queue_max * 2)
        self.lanes.restore(0, dict(self.written), now_ms=0)
        self.position = self.committed
        self.pending: set[int] = set()  # offsets read and not done
        self.unwritten_done: list[int] = []  # done once the next write is acknowledged
        self.unsettled: list[Entry[int]] = []  # ended, settled once it is acknowledged
        self.running: list[Entry[int]] = []  # attempts on their way
        self.waiting: list[Entry[int]] = []  # heads waiting for a retry
        self.rereads: list[Reread] = []

    def entry(self, offset: int) -> Entry[int]:
        lane, seq, event = self.log[offset]
        return Entry(lane, seq, event, offset, offset)

    def read(self) -> None:
        if self.position >= len(self.log):
            return
        offset = self.position
        self.position += 1
        self.pending.add(offset)
        offer = self.lanes.offer(0, self.entry(offset), now_ms=offset)
        if isinstance(offer, Skip):
            self.unwritten_done.append(offset)  # done with, at the next write
        else:
            self.take(offer)

    def take(self, offer: object) -> None:
        match offer:
            case Start(entry=entry):
                self.start(entry)
            case Reread() as reread:
                self.rereads.append(reread)
            case Wait() | Spill() | None:
                pass
            case _:
                raise AssertionError(offer)

    def start(self, entry: Entry[int]) -> None:
        self.history.append(("start", entry.lane, entry.event_id))
        self.running.append(entry)

    def outcome(self, rng: random.Random) -> None:
        if not self.running:
            return
        entry = self.running.pop(rng.randrange(len(self.running)))
        if rng.random() < 0.4:  # failed, retried later
            shown = self.lanes.retrying(entry, 2, "AUTOMATIC", None, now_ms=0)
            assert all(e.lane == entry.lane for e in shown)
            self.waiting.append(entry)
            return
        self.end(entry)

    def end(self, entry: Entry[int]) -> None:
        self.history.append(("end", entry.lane, entry.event_id))
        self.unwritten_done.append(entry.offset)
        self.lanes.ended(entry)
        self.unsettled.append(entry)

    def due(self, rng: random.Random, cancelled: bool) -> None:
        if not self.waiting:
            return
        entry = self.waiting.pop(rng.randrange(len(self.waiting)))
        if cancelled:  # the user cancelled the head while it waited: no attempt
            self.end(entry)
        else:
            self.start(entry)

    def reread(self) -> None:
        if not self.rereads:
            return
        reread = self.rereads.pop(0)
        found, through = [], reread.first
        for offset in range(reread.first, reread.last + 1):
            through = offset
            if self.log[offset][0] == reread.lane:
                found.append(self.entry(offset))
                if len(found) >= self.queue_max:
                    break
        self.take(self.lanes.refill(reread.lane, found, through))

    def write(self) -> None:
        """The lanes' records and what waited on them are acknowledged."""
        for lane_id, _, record in self.lanes.changed():
            self.written[lane_id] = record
        self.pending -= set(self.unwritten_done)
        self.unwritten_done = []
        self.committed = min(self.pending, default=self.position)
        self.history.append(("write", "", ""))
        settled, self.unsettled = self.unsettled, []
        for entry in settled:
            self.take(self.lanes.settled(entry))

    def crash(self) -> None:
        self.history.append(("crash", "", ""))
        self.boot()

    def drain(self) -> None:
        """Read to the end and let every attempt succeed."""
        while (
            self.position < len(self.log)
            or self.running
            or self.waiting
            or self.rereads
            or self.unsettled
        ):
            self.read()
            while self.running or self.waiting:
                if self.running:
                    self.end(self.running.pop(0))
                else:
                    self.start(self.waiting.pop(0))
            for _ in range(len(self.rereads)):  # once each: no room may wait for a write
                self.reread()
            self.write()


def check(deliverer: Deliverer) -> None:
    order: dict[str, list[str]] = {}
    for lane, _, event in deliverer.log:
        if event not in order.setdefault(lane, []):
            order[lane].append(event)
    ended: set[str] = set()
    latest: dict[str, int] = {}  # per lane: the furthest event started
    durable: set[str] = set()  # ends whose records were acknowledged
    unwritten: list[str] = []
    for what, lane, event in deliverer.history:
        if what == "crash":
            unwritten = []
        elif what == "write":
            durable.update(unwritten)
            unwritten = []
        elif what == "start":
            events = order[lane]
            missing = [e for e in events[: events.index(event)] if e not in ended]
            assert not missing, f"{event} of {lane} started before {missing} ended"
            assert event not in durable, f"{event} attempted again after its end was written"
            place = events.index(event)
            assert place >= latest.get(lane, 0), f"{event} again after a later one of {lane}"
            latest[lane] = place
        else:
            ended.add(event)
            unwritten.append(event)
    everything = {e for events in order.values() for e in events}
    assert everything <= ended, f"never ended: {sorted(everything - ended)[:5]}"


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), queue_max=st.sampled_from([1, 2, 3, 200]))
def test_a_key_is_delivered_in_order_through_failures_retries_cancels_and_crashes(
    seed: int, queue_max: int
) -> None:
    rng = random.Random(seed)
    deliverer = Deliverer(topic(rng, 60, 4), queue_max)
    for _ in range(400):
        op = rng.randrange(100)
        if op < 35:
            deliverer.read()
        elif op < 60:
            deliverer.outcome(rng)
        elif op < 70:
            deliverer.due(rng, cancelled=False)
        elif op < 74:
            deliverer.due(rng, cancelled=True)
        elif op < 82:
            deliverer.reread()
        elif op < 96:
            deliverer.write()
        else:
            deliverer.crash()
        queued = sum(len(lane.queue) for lane in deliverer.lanes.lanes.values())
        assert deliverer.lanes.held() == queued <= deliverer.lanes.held_max
    deliverer.write()
    deliverer.drain()
    check(deliverer)


def test_a_restored_head_keeps_its_attempt_and_schedule() -> None:
    lanes: Lanes[int] = Lanes()
    first = Entry("web_1:a", (0, 5), "evt_5", 10, 10)
    assert isinstance(lanes.offer(3, first, now_ms=1), Start)
    lanes.retrying(first, 4, "AUTOMATIC", "2026-12-06T20:00:00.000Z", now_ms=1_000)
    ((lane_id, partition, record),) = lanes.changed()
    assert (lane_id, partition) == ("web_1:a", 3)

    restored: Lanes[int] = Lanes()
    restored.restore(3, {lane_id: record}, now_ms=2)
    assert [lane.id for lane in restored.blocked()] == ["web_1:a"]
    earlier = Entry("web_1:a", (0, 4), "evt_4", 9, 9)
    assert isinstance(restored.offer(3, earlier, now_ms=2), Skip)  # done before the head
    again = restored.offer(3, Entry("web_1:a", (0, 5), "evt_5", 10, 10), now_ms=2)
    assert isinstance(again, Start)
    assert (again.head.attempt, again.head.trigger) == (4, "AUTOMATIC")
    assert again.head.not_before == "2026-12-06T20:00:00.000Z"
    assert again.head.blocked_since_ms == 1_000
    behind = restored.offer(3, Entry("web_1:a", (0, 6), "evt_6", 11, 11), now_ms=3)
    assert isinstance(behind, Wait) and behind.show and behind.head.event_id == "evt_5"


def test_other_keys_are_not_held_back() -> None:
    lanes: Lanes[int] = Lanes()
    a1 = Entry("web_1:a", (0, 1), "evt_a1", 0, 0)
    assert isinstance(lanes.offer(0, a1, now_ms=0), Start)
    lanes.retrying(a1, 2, "AUTOMATIC", None, now_ms=0)
    assert isinstance(lanes.offer(0, Entry("web_1:a", (0, 2), "evt_a2", 1, 1), 0), Wait)
    assert isinstance(lanes.offer(0, Entry("web_1:b", (0, 3), "evt_b1", 2, 2), 0), Start)
    assert len(lanes.blocked()) == 1 and lanes.held() == 1


def test_an_idle_lane_is_forgotten_and_its_record_dropped_only_below_the_commit() -> None:
    for committed, dropped in ((7, []), (8, ["web_1:a"])):
        lanes: Lanes[int] = Lanes()
        e = Entry("web_1:a", (0, 1), "evt_a1", 7, 7)
        lanes.offer(0, e, now_ms=0)
        lanes.ended(e)
        assert lanes.settled(e) is None
        lanes.changed()
        assert lanes.forget_idle(before_ms=0, committed={0: committed}) == []  # touched
        gone = lanes.forget_idle(before_ms=10, committed={0: committed})
        assert [lane.id for lane in gone] == dropped and lanes.lanes == {}
