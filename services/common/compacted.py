"""Compacted topics that hold a consumer's state, partition by partition: partition n of
the state topic is the state of partition n of the topic the consumer reads (the
router's ``dedup`` beside ``requests``, the deliverer's ``lanes`` beside ``ordered``).
A consumer assigned partition n reads partition n of its state to its end first."""

from __future__ import annotations

import logging
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewPartitions

from hookhouse.common import topics
from hookhouse.common.kafka import client_config, serve_logs
from hookhouse.common.settings import Settings

log = logging.getLogger(__name__)


# What a broker answers while a partition's leadership moves (a broker of the cluster
# died): the lookup is asked again until LEADER_MOVE_SECONDS have passed.
LEADER_MOVING = frozenset(
    {
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError._TRANSPORT,
        KafkaError._TIMED_OUT,
    }
)
LEADER_MOVE_SECONDS = 60.0


def watermarks(consumer: Consumer, partition: TopicPartition) -> tuple[int, int]:
    """The partition's low and high offsets, waiting out a leader moving to another broker
    (a router stopped for it would only be restarted into the same wait)."""
    deadline = time.monotonic() + LEADER_MOVE_SECONDS
    while True:
        try:
            low, high = consumer.get_watermark_offsets(partition, timeout=10, cached=False)
            return low, high
        except KafkaException as exc:
            if exc.args[0].code() not in LEADER_MOVING or time.monotonic() > deadline:
                raise
            log.warning("%s; asking again", exc.args[0])
            time.sleep(0.5)


def reader(settings: Settings, group: str) -> Consumer:
    """A consumer for reading assigned partitions from a given offset to their end: it
    commits nothing and says when it reached a partition's end."""
    return Consumer(
        {
            **client_config(settings),
            "group.id": topics.group(settings, group),
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )


def read_to_end(
    settings: Settings, topic: str, partitions: set[int], group: str
) -> dict[bytes, bytes]:
    """The latest value of every key in ``partitions`` of ``topic``, tombstones applied
    (``group``: the reader's, whose offsets are never committed)."""
    consumer = reader(settings, f"{group}-restore")
    entries: dict[bytes, bytes] = {}
    try:
        left = set()
        for number in partitions:
            low, high = watermarks(consumer, TopicPartition(topic, number))
            if high > low:
                left.add(number)
        consumer.assign([TopicPartition(topic, n, OFFSET_BEGINNING) for n in left])
        while left:
            msg = consumer.poll(10.0)
            if msg is None:
                raise TimeoutError(f"reading {topic} {sorted(left)} stalled")
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    left.discard(msg.partition() or 0)
                    continue
                raise RuntimeError(f"reading {topic}: {error}")
            key, value = msg.key(), msg.value()
            if key is None:
                continue
            if value is None:
                entries.pop(key, None)
            else:
                entries[key] = value
    finally:
        consumer.close()
    return entries


def match_partitions(settings: Settings, leader: str, state: str) -> None:
    """Give topic ``state`` as many partitions as ``leader`` (more were added to it since
    ``state`` was created): partition n of ``state`` is the state of partition n of
    ``leader``."""
    admin = AdminClient(client_config(settings))
    leader, state = topics.name(settings, leader), topics.name(settings, state)
    try:
        found = admin.list_topics(timeout=10).topics
        wanted, have = len(found[leader].partitions), len(found[state].partitions)
        if have < wanted:
            log.warning(
                "%s has %d partitions and %s %d: adding to %s", leader, wanted, state, have, state
            )
            admin.create_partitions([NewPartitions(state, wanted)])[state].result(timeout=30)
    finally:
        serve_logs(admin)
