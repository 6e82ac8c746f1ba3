"""The consumer owns the commit cadence (``common/consumer.py``): a service only says
what is done, and the group's committed offsets follow, as the broker confirms them."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from hookhouse.common import topics
from hookhouse.common.consumer import AsyncConsumer
from hookhouse.common.kafka import (
    AsyncProducer,
    adopt_offsets,
    client_config,
    consumer_config,
    ensure_topics,
)
from hookhouse.common.settings import Settings
from tests.stack import isolated_settings

pytestmark = pytest.mark.integration


def committed(settings: Settings, group: str, topic: str) -> int | None:
    """The group's committed offset of ``topic``'s partition 0, read by another client."""
    reader = Consumer(consumer_config(settings, group))
    try:
        [tp] = reader.committed([TopicPartition(topic, 0)], timeout=10)
        return None if tp.offset < 0 else int(tp.offset)
    finally:
        reader.close()


def test_what_is_done_is_committed_without_the_service_asking(settings: Settings) -> None:
    topic = topics.name(settings, topics.REQUESTS)
    group = f"commits-{uuid.uuid4().hex}"

    async def scenario() -> tuple[int | None, int | None, int | None]:
        producer = AsyncProducer(settings)
        sent = [await producer.send(topic, b"x", key="k", partition=0) for _ in range(5)]
        producer.close()
        end = (sent[-1].offset() or 0) + 1
        consumer = AsyncConsumer(settings, group, [topic], commit_every_seconds=0.1)
        taken: list[Message] = []
        async with asyncio.timeout(30):
            while len([m for m in taken if m.partition() == 0]) < end:
                taken += await consumer.consume(100, 0.2)
        mine = [m for m in taken if m.partition() == 0]
        consumer.done_all(mine[:3])  # the first three only: the commit stops before 4th
        async with asyncio.timeout(30):
            while consumer.tracker.partitions[(topic, 0)].committed != mine[3].offset():
                await consumer.consume(1, 0.1)  # polls serve the broker's answers
        first = committed(settings, group, topic)
        consumer.done_all(mine[3:])
        async with asyncio.timeout(30):
            while consumer.tracker.partitions[(topic, 0)].committed != end:
                await consumer.consume(1, 0.1)
        second = committed(settings, group, topic)
        await consumer.close()
        return first, second, mine[3].offset()

    first, second, fourth = asyncio.run(scenario())
    assert first == fourth  # never past a record not done
    assert second is not None and second > (first or 0)


def test_a_refused_commit_is_logged_and_asked_again(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """The broker's refusal arrives through librdkafka's commit callback: the position
    is not counted committed, and the next commit asks for it again."""
    topic = topics.name(settings, topics.REQUESTS)

    async def scenario() -> dict[tuple[str, int], int]:
        consumer = AsyncConsumer(settings, f"refused-{uuid.uuid4().hex}", [topic])
        consumer.tracker.take(topic, 0, 41)
        consumer.tracker.done(topic, 0, 41)
        consumer.tracker.ask(consumer.tracker.committable())
        refused = TopicPartition(topic, 0, 42)
        consumer._answered(KafkaError(KafkaError.REBALANCE_IN_PROGRESS), [refused])
        again = consumer.tracker.committable()
        await consumer.close()
        return again

    assert asyncio.run(scenario()) == {(topic, 0): 42}
    assert "offset commit failed" in caplog.text


def test_two_stacks_on_one_cluster_with_the_same_member_names_do_not_fence_each_other(
    infra: None,
) -> None:
    """Each stack's router is a static member named ``router-0`` (as ``hookhouse up``
    names them); their groups are their own, so neither takes the other's place."""
    stacks = [isolated_settings(instance_id="router-0") for _ in range(2)]
    consumers = []
    for settings in stacks:
        ensure_topics(settings)
        consumer = Consumer(consumer_config(settings, topics.ROUTER_GROUP))
        consumer.subscribe([topics.name(settings, topics.REQUESTS)])
        consumers.append(consumer)
    errors: list[KafkaError] = []

    def poll_all() -> None:
        for consumer in consumers:
            msg = consumer.poll(0.2)
            error = msg.error() if msg is not None else None
            if error is not None and error.fatal():
                errors.append(error)

    try:
        deadline = time.monotonic() + 60
        while not all(c.assignment() for c in consumers) and time.monotonic() < deadline:
            poll_all()
        for _ in range(25):  # heartbeats go on: a fenced member hears of it
            poll_all()
        assert [bool(c.assignment()) for c in consumers] == [True, True]
        assert errors == []
    finally:
        for consumer in consumers:
            consumer.close()


def commit_as(settings: Settings, group: str, offsets: list[TopicPartition]) -> None:
    """Commit ``offsets`` under the group id ``group`` as it is (as a release before
    prefixed groups did), once the broker knows the topics just made."""
    old = Consumer({**client_config(settings), "group.id": group, "enable.auto.commit": False})
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                old.commit(offsets=offsets, asynchronous=False)
                return
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                    raise
                assert time.monotonic() < deadline, "the topics were never known"
                time.sleep(0.2)
    finally:
        old.close()


def test_an_upgraded_stack_with_a_prefix_starts_its_groups_where_the_old_ids_were(
    infra: None,
) -> None:
    """Before groups were prefixed, a stack with its own prefix committed under
    ``hookhouse-router`` and so on (beside any other stack on the cluster).  Its groups
    of its own start from those offsets, on its own topics only, once; what they
    commit afterwards is theirs."""
    stack, other = isolated_settings(), isolated_settings()
    for settings in (stack, other):
        ensure_topics(settings)
    requests = topics.name(stack, topics.REQUESTS)
    elsewhere = topics.name(other, topics.REQUESTS)
    commit_as(stack, topics.ROUTER_GROUP, [TopicPartition(requests, 0, 7)])
    commit_as(stack, topics.ROUTER_GROUP, [TopicPartition(elsewhere, 0, 9)])

    async def join() -> None:  # as every service's consumer is made
        consumer = await AsyncConsumer.joining(stack, topics.ROUTER_GROUP, [requests])
        await consumer.close()

    asyncio.run(join())
    assert committed(stack, topics.ROUTER_GROUP, requests) == 7
    reader = Consumer(consumer_config(stack, topics.ROUTER_GROUP))
    [tp] = reader.committed([TopicPartition(elsewhere, 0)], timeout=10)
    assert tp.offset < 0  # another stack's topic is not taken
    reader.commit(offsets=[TopicPartition(requests, 0, 8)], asynchronous=False)
    reader.close()
    adopt_offsets(stack, topics.ROUTER_GROUP)
    assert committed(stack, topics.ROUTER_GROUP, requests) == 8


def test_a_service_does_not_start_when_its_groups_offsets_cannot_be_read() -> None:
    """Not knowing whether its group committed anything, a service would read from
    the oldest record: it stops instead (and is started again)."""
    away = Settings(topic_prefix="staging.", kafka_bootstrap="127.0.0.1:9")
    with pytest.raises(RuntimeError, match=r"offsets of group staging\.hookhouse-router"):
        adopt_offsets(away, topics.ROUTER_GROUP, timeout=1.0)


def test_a_group_joined_before_its_offsets_were_adopted_stays_its_own(infra: None) -> None:
    """A process of the stack joined the new group when the old one had nothing on its
    topics; an old release committed there since.  The next process does not take
    those offsets (the broker refuses a commit from outside a group with members), and
    starts rather than stop."""
    stack = isolated_settings()
    ensure_topics(stack)
    requests = topics.name(stack, topics.REQUESTS)
    member = Consumer(consumer_config(stack, topics.ROUTER_GROUP))
    member.subscribe([requests])
    deadline = time.monotonic() + 60
    while not member.assignment() and time.monotonic() < deadline:
        member.poll(0.2)
    try:
        assert member.assignment()
        commit_as(stack, topics.ROUTER_GROUP, [TopicPartition(requests, 0, 4)])
        adopt_offsets(stack, topics.ROUTER_GROUP, timeout=20)
        assert committed(stack, topics.ROUTER_GROUP, requests) is None
    finally:
        member.close()


def test_a_consumer_fenced_by_a_second_process_under_its_name_stops(infra: None) -> None:
    """A second process started under a name in use (or a coordinator that lost track
    of a static member) fences the first: its reads raise, so its service stops and is
    restarted, instead of reading nothing for ever."""
    settings = isolated_settings(instance_id="sink-0")
    ensure_topics(settings)
    records = topics.name(settings, topics.RECORDS)

    async def scenario() -> None:
        first = AsyncConsumer(settings, topics.SINK_GROUP, [records])
        deadline = time.monotonic() + 60
        while not first._assigned and time.monotonic() < deadline:
            await first.consume(1, 0.2)
        assert first._assigned
        second = Consumer(consumer_config(settings, topics.SINK_GROUP))
        second.subscribe([records])
        try:
            with pytest.raises(KafkaException):
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    second.poll(0.1)
                    await first.consume(1, 0.1)
        finally:
            second.close()
            with contextlib.suppress(Exception):
                await first.close()

    asyncio.run(scenario())
