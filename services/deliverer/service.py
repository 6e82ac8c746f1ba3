"""The deliverer process's pump: consume ``deliveries`` and the retry tiers, push each
delivery (``push.py``), produce what the domain decides follows (``after_attempt``).

The chain for one record, top to bottom in :meth:`Deliverer.handle`:
decode → wait until due (retry tier or timer) → take the destination's rate-limit
slot (or set the delivery aside in a retry tier when that wait is long) → push with
auth and signature → read the clock, decide what follows → produce the attempt row
(with the event's new status), plus the next retry or a dead letter → await every
ack → mark the offset done.

Offsets are committed contiguously by the tracker, so a slow delivery never lets a
later offset be committed past it.  In-flight work is bounded: at the bound the
consumer pauses its partitions and keeps polling.  A retry-tier partition whose head
is not ready yet is held (paused and sought back) until it is.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import orjson
import uvloop
from confluent_kafka import Message as Record

from hookhouse.common import metrics, topics
from hookhouse.common.clock import now_ms
from hookhouse.common.compacted import match_partitions
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.consumer import (
    IDLE_WAIT_SECONDS,
    AsyncConsumer,
    membership_of,
    position,
    send_dead_letter,
)
from hookhouse.common.domain.ids import new_id
from hookhouse.common.domain.lanes import Entry, Head
from hookhouse.common.domain.outcome import (
    DeadLetter,
    Muted,
    Pushed,
    Retry,
    after_attempt,
    mute_stops,
)
from hookhouse.common.domain.ratelimit import PERIODS, ConcurrencyLimit, RateLimiter
from hookhouse.common.domain.records import AttemptRow, Delivery
from hookhouse.common.domain.retry import InvalidRetryRule, RetryPolicy, policy_from_rules
from hookhouse.common.domain.schedule import NOW, TIMER, place, tier_delays
from hookhouse.common.domain.ssrf import parse_networks
from hookhouse.common.domain.times import parse_iso
from hookhouse.common.health import Readiness
from hookhouse.common.kafka import (
    AsyncProducer,
    KafkaProbe,
    Pace,
    RecordTooLarge,
    SendGroup,
    ensure_topics,
)
from hookhouse.common.runtime import serve_beside, settle_heap, start
from hookhouse.common.settings import Settings, load
from hookhouse.deliverer.lanes import Ordering, entry_of
from hookhouse.deliverer.push import Pusher

log = logging.getLogger(__name__)

GROUP = topics.DELIVERER_GROUP
# A rate-limit wait longer than this sets the delivery aside in a retry tier instead of
# holding a slot of the in-flight budget.
SET_ASIDE_AFTER_SECONDS = 2.0
# Records read ahead per in-flight slot.  A pause makes the client drop what it had
# prefetched and fetch it again on resume; a deep backlog makes pauses rare and long.
BACKLOG_PER_SLOT = 4
PAUSE_AFTER_FULL_SECONDS = 5.0
# How long a read waits for a record while the loop has work in hand (it seals, releases
# and ticks between reads).
BUSY_WAIT_SECONDS = 0.05
# The ``kind`` header of the row every attempt produces (the sink's table).
ATTEMPT_KIND: list[tuple[str, str | bytes | None]] = [("kind", AttemptRow.kind.encode())]
# Where a delivery goes when it is not attempted now: (the delivery as it will be
# attempted, the retry tier that fits its wait, whether an attempt failed).
Aside = Callable[[Delivery, str, bool], None]


@dataclass
class Gate:
    """A destination's limit, rebuilt when its configuration changes."""

    signature: tuple[Any, ...]
    rate: RateLimiter | None = None
    concurrency: ConcurrencyLimit | None = None
    waiting: int = 0


class Deliverer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.config = ConfigLog(settings)
        self.records_topic = topics.name(settings, topics.RECORDS)
        self.dlq_topic = topics.name(settings, topics.DLQ)
        self.tier_delays = tier_delays(settings.topic_prefix, topics.RETRY_TIERS)
        self.ordered_topic = topics.name(settings, topics.ORDERED)
        self.ordering = Ordering(settings, self.start_head)
        self.head_ends = Pace(settings.kafka_eager_below)
        self.allowed = parse_networks(settings.destination_allow_networks)
        self.consumer: AsyncConsumer | None = None
        self.producer: AsyncProducer | None = None
        self.pusher: Pusher | None = None
        self.gates: dict[str, Gate] = {}
        self.policies: dict[str, tuple[Any, RetryPolicy]] = {}  # connection id -> (rules, policy)
        self.tasks: set[asyncio.Task[None]] = set()
        # The records of finished deliveries go through one SendGroup at a time; the
        # loop seals it each turn, and its records' deliveries are done once it is acked.
        self.sends: SendGroup | None = None
        self.sending: list[Record] = []
        self.then: list[Callable[[], None]] = []  # to run once the current group is acked
        self.unsettled: set[asyncio.Future[None]] = set()
        # Records read but not started yet: they let the partitions stay unpaused while
        # deliveries run, since every pause makes the client drop and re-fetch what it
        # had prefetched (KAFKA-NOTES C).  Bounded: at its limit the partitions pause.
        self.backlog: collections.deque[Record] = collections.deque()
        self.wakeup = asyncio.Event()
        self.stop = asyncio.Event()
        self.failed = False

    # -- the poll loop ---------------------------------------------------------------
    async def run(self) -> None:
        await asyncio.to_thread(ensure_topics, self.settings)
        await asyncio.to_thread(match_partitions, self.settings, topics.ORDERED, topics.LANES)
        self.config.start()
        while not await asyncio.to_thread(self.config.wait_ready, 5.0):
            log.warning("waiting for the configuration log before delivering")
        # A broker restart must not outlast the producer: wait for it (bounded).
        self.producer = AsyncProducer(
            self.settings,
            timeout=self.settings.background_produce_timeout_seconds,
            linger_ms=self.settings.deliverer_linger_ms,
        )
        self.sends = self.producer.group()
        limit = self.settings.deliverer_max_in_flight
        self.pusher = Pusher(self.settings, self.allowed, connections=limit + 16)
        names = [topics.name(self.settings, topics.DELIVERIES)]
        names += [topics.retry_topic(self.settings, tier) for tier, _ in topics.RETRY_TIERS]
        names.append(self.ordered_topic)
        self.consumer = await AsyncConsumer.joining(
            self.settings,
            GROUP,
            names,
            on_assign=self.ordering.restore,
            on_drop=self.ordering.dropped,
        )
        settle_heap()
        try:
            dispatcher = asyncio.create_task(self.dispatch_loop(limit))
            most = BACKLOG_PER_SLOT * limit
            full_since: float | None = None
            ticked = time.monotonic()
            while not self.stop.is_set():
                room = most - len(self.backlog)
                if room > 0:
                    full_since = None
                    if self.consumer.paused and room >= most // 2:
                        await self.consumer.resume()
                    fresh = await self.consumer.consume(min(room, 500), self.read_wait())
                    if fresh:
                        self.backlog.extend(fresh)
                        self.wakeup.set()
                else:
                    # Full: stop reading, and let the client's own bounded prefetch
                    # queue hold what comes next.  Only a long stall pauses (and
                    # polls, which keeps the group membership alive).
                    full_since = full_since or time.monotonic()
                    if time.monotonic() - full_since > PAUSE_AFTER_FULL_SECONDS:
                        await self.consumer.pause()
                        # Paused partitions yield nothing, but a partition assigned
                        # meanwhile may: keep whatever comes.
                        self.backlog.extend(await self.consumer.consume(1, BUSY_WAIT_SECONDS))
                    else:
                        await asyncio.sleep(0.005)
                await self.consumer.release_due(time.time())
                if time.monotonic() - ticked > 1.0:
                    ticked = time.monotonic()
                    self.tick()
                self.seal()
            dispatcher.cancel()
        finally:
            await self.shutdown()

    def read_wait(self) -> float:
        """How long the next read may wait for a record.  Short while anything is in
        flight, read ahead, to seal or to settle; else until the first held partition or
        lane timer is due (its release or attempt makes the next turn a short one), at
        most IDLE_WAIT_SECONDS: nothing but a record can need the loop meanwhile."""
        assert self.consumer is not None
        if self.tasks or self.backlog or self.sending or self.unsettled:
            return BUSY_WAIT_SECONDS
        wait = IDLE_WAIT_SECONDS
        released = self.consumer.next_release()
        if released is not None:
            wait = min(wait, released - time.time())
        if self.ordering.timers:
            loop = asyncio.get_running_loop()
            wait = min(wait, min(t.when() for t in self.ordering.timers.values()) - loop.time())
        return max(wait, BUSY_WAIT_SECONDS)

    async def dispatch_loop(self, limit: int) -> None:
        """Start backlog records as soon as there is room (woken by reads and endings)."""
        while True:
            self.wakeup.clear()
            while self.backlog and len(self.tasks) < limit:
                await self.dispatch(self.backlog.popleft())
            await self.wakeup.wait()

    async def dispatch(self, msg: Record) -> None:
        """Start handling ``msg`` unless its retry-tier partition is not ready yet, or
        it is an ordered delivery whose key's lane holds it."""
        assert self.consumer is not None and self.sends is not None
        if msg.topic() == self.ordered_topic:
            try:
                finished = self.ordering.offer(msg, self.sends)
            except (orjson.JSONDecodeError, TypeError, ValueError):
                pass  # not an ordered delivery: delivered (or dead-lettered) like any
            else:
                if finished is not None:
                    self.consumer.done(finished)
                return
        delay = self.tier_delays.get(msg.topic() or "")
        if delay is not None:
            _, appended_ms = msg.timestamp()
            ready = appended_ms / 1000 + delay
            if ready > time.time():
                await self.consumer.hold(msg, ready)
                # What was read after it from the same partition is read again later;
                # while held, consume() returns nothing of that partition.
                held = (msg.topic(), msg.partition())
                self.backlog = collections.deque(
                    m for m in self.backlog if (m.topic(), m.partition()) != held
                )
                return
        self.spawn(self.handle(msg))

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` as one more task of the in-flight budget (its failure stops the
        process: :meth:`_finished`)."""
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self._finished)

    def done_when_acked(self, msg: Record) -> None:
        """``msg`` is done once the current group (holding its records) is acked.

        Call it right after they were sent, with no ``await`` in between."""
        self.sending.append(msg)

    def seal(self) -> asyncio.Future[None] | None:
        """Close the current group: its records' deliveries become done on its ack
        (the future returned; none when it held no delivery's records)."""
        if self.sends is not None:
            self.ordering.write(self.sends)  # with the attempt rows that changed them
        if not self.sending or self.producer is None or self.sends is None:
            return None
        group, finished, then = self.sends, self.sending, self.then
        self.sends, self.sending, self.then = self.producer.group(), [], []
        acked = group.acked()
        self.unsettled.add(acked)

        def settled(future: asyncio.Future[None]) -> None:
            self.unsettled.discard(future)
            if future.cancelled() or future.exception() is not None:
                # Never marked done: read again after the restart (at least once).
                log.error(
                    "outcome records were not acknowledged; stopping",
                    exc_info=None if future.cancelled() else future.exception(),
                )
                self.failed = True
                self.stop.set()
            elif self.consumer is not None:
                self.consumer.done_all(finished)
                for step in then:
                    step()

        acked.add_done_callback(settled)
        return acked

    def _finished(self, task: asyncio.Task[None]) -> None:
        """A record whose outcome could not be made durable stops the process.

        Its offset stays uncommitted (the tracker never marks it done), so the record
        is read again after the restart: at least once.
        """
        self.tasks.discard(task)
        if self.backlog:  # a slot for the next one (an empty backlog wakes it when filled)
            self.wakeup.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("a delivery failed to complete; stopping", exc_info=task.exception())
            self.failed = True
            self.stop.set()

    async def shutdown(self) -> None:
        if self.tasks:
            # A few seconds to finish; what is still running then is cancelled, and its
            # record, never marked done, is read again after the restart.
            _, unfinished = await asyncio.wait(set(self.tasks), timeout=5)
            for task in unfinished:
                task.cancel()
            if unfinished:
                await asyncio.wait(unfinished, timeout=5)
        self.seal()
        if self.unsettled:
            await asyncio.wait(set(self.unsettled), timeout=10)
        if self.consumer is not None:
            await self.consumer.close()
        if self.pusher is not None:
            await self.pusher.close()
        if self.producer is not None:
            await asyncio.to_thread(self.producer.close)
        self.config.stop()

    # -- one record ------------------------------------------------------------------
    async def handle(self, msg: Record) -> None:
        assert self.consumer is not None
        try:
            delivery = Delivery.from_dict(orjson.loads(msg.value() or b""))
            body = delivery.body_bytes  # decoded once: validates the base64 body
        except (orjson.JSONDecodeError, TypeError, ValueError) as exc:
            await self.dead_letter(msg, "invalid_delivery", f"not a delivery record: {exc}")
            self.consumer.done(msg)
            return
        try:
            pending = await self.deliver(delivery, msg, body)
        except RecordTooLarge as exc:  # a delivery not made by the router, which bounds them
            await self.dead_letter(msg, "record_too_large", str(exc))
            self.consumer.done(msg)
            return
        self.done_when_acked(msg)
        if pending:
            await asyncio.gather(*pending)

    # -- ordered deliveries (deliverer/lanes.py) ---------------------------------------
    def start_head(self, entry: Entry[Record], head: Head) -> None:
        """Attempt a lane's head now, as one more task of the in-flight budget."""
        self.spawn(self.handle_head(entry, head))

    async def handle_head(self, entry: Entry[Record], head: Head) -> None:
        """One attempt of a lane's head (or its cancellation).  Its record is done only
        when it ended for good; until then the lane's record holds its retry state."""
        assert self.sends is not None
        msg = entry.ref
        _, stored = entry_of(msg)
        if self.paused(stored.connection_id):  # its lane waits (the router held none)
            self.ordering.park(entry, head)
            return
        # A fresh head has no schedule of its own: the delivery's (a delay rule's) holds.
        not_before = head.not_before or stored.not_before
        delivery = replace(
            stored, attempt=head.attempt, trigger=head.trigger, not_before=not_before
        )
        later: list[tuple[Delivery, bool]] = []
        try:
            body = delivery.body_bytes
            pending = await self.deliver(
                delivery, msg, body, lambda d, tier, failed: later.append((d, failed))
            )
        except (TypeError, ValueError, RecordTooLarge) as exc:
            await self.dead_letter(msg, "invalid_delivery", str(exc))
            pending = []
        if later:
            after, failed = later[0]
            if failed:
                self.ordering.retrying(entry, after, self.sends)
            else:  # not attempted: not due yet, or the destination's rate limit
                self.ordering.later(entry, after.not_before, otherwise=SET_ASIDE_AFTER_SECONDS)
        else:
            self.done_when_acked(msg)
            self.ordering.ended(entry)
            self.then.append(partial(self.settle_head, entry))
            self.hurry_head_end()
        if pending:
            await asyncio.gather(*pending)

    def hurry_head_end(self) -> None:
        """A lane's next event waits for the records ending its head.  While fewer than
        ``kafka_eager_below`` heads end a second they are sealed now rather than at the
        loop's next turn, and sent without the producer's linger (which the rest of the
        producer's records skip only until these are acknowledged); above it, many lanes
        move at once, and the turn's group and the linger batch them."""
        if self.producer is not None and self.head_ends.light(time.monotonic()):
            acked = self.seal()
            if acked is not None:
                self.producer.hurry(acked)

    def settle_head(self, entry: Entry[Record]) -> None:
        """The records saying a lane's head ended are acknowledged: its next may start
        (or be read again, as one more task of the in-flight budget)."""
        if self.stop.is_set():
            return  # the lane is restored from its record by whoever reads it next
        reread = self.ordering.settled(entry)
        if reread is not None:
            self.spawn(self.ordering.reread(reread))

    def tick(self) -> None:
        """Once a second: the lanes' cancelled heads, metrics and idle lanes."""
        assert self.consumer is not None and self.sends is not None
        committed = {
            partition: tracked.committed
            for (topic, partition), tracked in self.consumer.tracker.partitions.items()
            if topic == self.ordered_topic and tracked.committed is not None
        }
        self.ordering.tick(
            self.marked_muted,
            self.paused,
            committed,
            self.sends,
        )

    def paused(self, connection_id: str) -> bool:
        connection = self.config.state.get("connection", connection_id) or {}
        return bool(connection.get("paused_at"))

    def muted(self, delivery: Delivery) -> bool:
        """Was the event muted through the API?  Deliveries asked for by hand still go."""
        return mute_stops(delivery, self.marked_muted(delivery.event_id))

    def marked_muted(self, event_id: str) -> bool:
        """Did the API cancel event ``event_id`` (a mark in the config log)?"""
        return self.config.state.get("muted_event", event_id) is not None

    async def deliver(
        self, delivery: Delivery, msg: Record, body: bytes, aside: Aside | None = None
    ) -> list[asyncio.Future[Any]]:
        """Send everything one delivery record causes (through the current
        :meth:`done_when_acked` group, at its very end); return what else to await.

        What is not attempted now goes to ``aside`` (by default, a retry tier)."""
        assert self.pusher is not None
        aside = aside or self.in_tier
        if self.muted(delivery):  # the API has recorded the event as cancelled
            log.info(
                "dropping delivery %s of muted event %s",
                delivery.attempt,
                delivery.event_id,
                extra={"event_id": delivery.event_id},
            )
            return [self.forget_mute(delivery)]
        while True:  # loops only for waits shorter than the smallest retry tier
            remaining = self.remaining(delivery)
            placement = place(remaining, topics.RETRY_TIERS)
            if placement.where == TIMER:
                await asyncio.sleep(placement.seconds)
                continue
            if placement.where != NOW:
                aside(delivery, placement.where, False)
                return []
            destination = await self.destination(delivery.destination_id)
            if destination is None:
                self.dead_letter_outcome(msg, "destination_not_found", delivery)
                return []
            gate = self.gate(destination)
            wait = self.reserve(gate)
            if wait is None:  # a long wait: set it aside, the partition moves on
                aside(delivery, topics.RETRY_TIERS[0][0], False)
                return []
            if wait > 0:
                gate.waiting += 1
                try:
                    await asyncio.sleep(wait)
                finally:
                    gate.waiting -= 1
                if gate.concurrency is not None:
                    continue  # a concurrency slot is not reserved ahead: try again
            policy = self.policy(delivery)
            try:
                pushed = await self.pusher.push(
                    delivery,
                    destination,
                    body,
                    policy,
                    self.names(delivery, destination),
                    self.project_secret(delivery),
                )
            finally:
                if gate.concurrency is not None:
                    gate.concurrency.release()
            return self.record(delivery, pushed, msg, policy, aside)

    async def destination(self, destination_id: str) -> dict[str, Any] | None:
        found = self.config.state.get("destination", destination_id)
        if found is None:  # perhaps created a moment ago: read the log to its end first
            await asyncio.to_thread(self.config.catch_up, 5.0)
            found = self.config.state.get("destination", destination_id)
        return found

    def remaining(self, delivery: Delivery) -> float:
        if not delivery.not_before:
            return 0.0
        return parse_iso(delivery.not_before).timestamp() - time.time()

    def gate(self, destination: dict[str, Any]) -> Gate:
        limit, period = destination.get("rate_limit"), destination.get("rate_limit_period")
        signature = (limit, period)
        gate = self.gates.get(destination["id"])
        if gate is None or gate.signature != signature:
            gate = Gate(signature)
            if isinstance(limit, int) and limit > 0:
                if period == "concurrent":
                    gate.concurrency = ConcurrencyLimit(limit)
                elif period in PERIODS:
                    gate.rate = RateLimiter(limit, PERIODS[period])
            self.gates[destination["id"]] = gate
        return gate

    def reserve(self, gate: Gate) -> float | None:
        """Seconds until this delivery may start (0: now), or ``None`` to set it aside.

        A rate-limit slot is taken ahead and waited for; a concurrency slot is taken
        only when free.  Past SET_ASIDE_AFTER_SECONDS of waiting, or with too many
        deliveries already waiting for this destination, the delivery goes to the
        shortest retry tier so it holds no in-flight slot meanwhile.
        """
        if gate.waiting >= self.settings.deliverer_max_waiting_per_destination:
            return None
        if gate.concurrency is not None:
            return 0.0 if gate.concurrency.try_acquire() else 0.05
        if gate.rate is not None:
            return gate.rate.reserve(time.monotonic(), SET_ASIDE_AFTER_SECONDS)
        return 0.0

    def project_secret(self, delivery: Delivery) -> str:
        """What signs the deliveries of the delivery's project (Hookdeck's signature)."""
        project = self.config.state.get("project", delivery.project_id) or {}
        return str(project.get("signing_secret", ""))

    def names(self, delivery: Delivery, destination: dict[str, Any]) -> dict[str, str]:
        state = self.config.state
        source = state.get("source", delivery.source_id) or {}
        connection = state.get("connection", delivery.connection_id) or {}
        found = {
            "source": source.get("name"),
            "connection": connection.get("name"),
            "destination": destination.get("name"),
        }
        return {kind: str(name) for kind, name in found.items() if name}

    def policy(self, delivery: Delivery) -> RetryPolicy:
        """The connection's retry policy, parsed once per version of its rules (the
        config state replaces a connection's rules object when they change)."""
        connection = self.config.state.get("connection", delivery.connection_id) or {}
        rules = connection.get("rules")
        known = self.policies.get(delivery.connection_id)
        if known is not None and known[0] is rules:
            return known[1]
        try:
            policy = policy_from_rules(rules)
        except InvalidRetryRule as exc:
            log.warning(
                "connection %s: retry rule ignored: %s",
                delivery.connection_id,
                exc,
                extra={"event_id": delivery.event_id, "connection_id": delivery.connection_id},
            )
            policy = RetryPolicy()
        self.policies[delivery.connection_id] = (rules, policy)
        return policy

    def record(
        self, delivery: Delivery, pushed: Pushed, msg: Record, policy: RetryPolicy, aside: Aside
    ) -> list[asyncio.Future[Any]]:
        """Produce the attempt row (which carries the event's new status too), and the
        retry or dead letter the domain decided on; return what else to await."""
        assert self.sends is not None
        now = now_ms()  # the attempt's end: the one time the decision is given
        decided = after_attempt(
            delivery,
            pushed,
            policy,
            now,
            muted=self.muted(delivery),  # while this attempt was on its way
            attempt_id=new_id("atm", now),
            retry_after_cap=self.settings.retry_after_max_seconds,
        )
        row = decided.row
        metrics.ATTEMPTS.labels(delivery.destination_id, row.status, row.error_code).inc()
        metrics.DELIVERY_LATENCY.observe(
            max(0.0, now / 1000 - parse_iso(delivery.received_at).timestamp())
        )
        self.sends.send(self.records_topic, orjson.dumps(row), row.id, ATTEMPT_KIND)
        match decided.then:
            case Retry(delivery=retry, due_ms=due_ms):
                aside(retry, place((due_ms - now) / 1000, topics.RETRY_TIERS).where, True)
            case DeadLetter(reason=reason):
                self.dead_letter_outcome(msg, reason, delivery)
            case Muted():
                # Done with, the mark can go (not needed for the offset: a mark left
                # behind by a crash only mutes automatic attempts of an event that has
                # ended).
                return [self.forget_mute(delivery)]
        return []

    def forget_mute(self, delivery: Delivery) -> asyncio.Future[Any]:
        return asyncio.ensure_future(
            asyncio.to_thread(self.config.put, "muted_event", delivery.event_id, None)
        )

    def in_tier(self, delivery: Delivery, tier: str, failed: bool) -> None:
        self.wait_in_tier(delivery, tier)

    def wait_in_tier(self, delivery: Delivery, tier: str) -> None:
        """Put a delivery in a retry tier (the shortest one when ``tier`` is not a tier)."""
        assert self.sends is not None
        names = [name for name, _ in topics.RETRY_TIERS]
        topic = topics.retry_topic(self.settings, tier if tier in names else names[0])
        self.sends.send(topic, delivery.to_json(), key=delivery.destination_id)

    def dead_letter_outcome(self, msg: Record, reason: str, delivery: Delivery) -> None:
        assert self.sends is not None
        details = {"event_id": delivery.event_id}
        send_dead_letter(self.sends, self.dlq_topic, "deliverer", reason, msg, details)

    async def dead_letter(self, msg: Record, reason: str, message: str) -> None:
        assert self.producer is not None
        log.warning("dead-lettering %s: %s", position(msg), message)
        details = {"message": message}
        await send_dead_letter(self.producer, self.dlq_topic, "deliverer", reason, msg, details)


async def serve(settings: Settings) -> None:
    deliverer = Deliverer(settings)
    readiness = Readiness(
        {"kafka": KafkaProbe(settings), "config": lambda: deliverer.config.ready},
        group=lambda: membership_of(deliverer.consumer),
    )
    port = settings.deliverer_port
    await serve_beside(deliverer.run(), deliverer.stop, readiness, settings, port)
    if deliverer.failed:
        raise SystemExit(3)


def main() -> None:
    settings = load()
    start("deliverer", settings)
    uvloop.run(serve(settings))  # the faster loop for the HTTP client (BASELINES)
