"""The router's deduplication memory: a dict in memory, kept in a compacted topic.

An entry is ``b"<connection id>:<key>"`` -> ``b"<expires at ms>:<partition>:<request
id>"``.  It is written to the ``dedup`` topic's partition with the number of the
``requests`` partition whose record made it — the partition every later request of
that source reads — and its send is acknowledged before that record's offset is
committed.  When the router is assigned a ``requests`` partition it reads the same
``dedup`` partition from its start to its end before routing a record of it
(``restore``, called on the consumer's thread inside the assignment), so the memory
survives restarts and rebalances.  Expired entries are dropped and tombstoned
(``expire``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial

from confluent_kafka import TopicPartition

from hookhouse.common import topics
from hookhouse.common.clock import now_ms
from hookhouse.common.compacted import read_to_end
from hookhouse.common.domain.routing import SeenBefore
from hookhouse.common.kafka import AsyncProducer, SendGroup
from hookhouse.common.settings import Settings

log = logging.getLogger(__name__)

Entries = dict[bytes, bytes]


def partition_of(value: bytes) -> int:
    return int(value.split(b":")[1])


class DedupMemory:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topic = topics.name(settings, topics.DEDUP)
        self.entries: Entries = {}
        # Filled on the consumer's thread, applied on the loop's: (partitions, entries).
        self._restored: list[tuple[set[int], Entries]] = []
        self._lock = threading.Lock()

    # -- the consumer's thread --------------------------------------------------------
    def restore(self, partitions: list[TopicPartition]) -> None:
        """Read the ``dedup`` partitions of newly assigned ``requests`` partitions."""
        numbers = {tp.partition for tp in partitions}
        if not numbers:
            return
        started = time.monotonic()
        entries = read_to_end(self.settings, self.topic, numbers, topics.ROUTER_GROUP)
        with self._lock:
            self._restored.append((numbers, entries))
        log.info(
            "restored %d deduplication entries of partitions %s in %.2f s",
            len(entries),
            sorted(numbers),
            time.monotonic() - started,
        )

    # -- the loop's thread ------------------------------------------------------------
    def apply_restored(self) -> None:
        """Replace what memory holds for restored partitions with what was read."""
        with self._lock:
            restored, self._restored = self._restored, []
        for numbers, entries in restored:
            self.entries = {k: v for k, v in self.entries.items() if partition_of(v) not in numbers}
            self.entries.update(entries)

    def seen_in(
        self,
        sends: SendGroup,
        partition: int,
        request_id: str,
        held: list[Callable[[], None]] | None = None,
    ) -> SeenBefore:
        """The ``seen_before`` for request ``request_id`` of ``partition``; the entries it
        writes go through ``sends`` (acknowledged with the request's other records), or
        into ``held``, for the caller to send when the producer's queue has room.

        An entry names the request that made it: the same request read again (after a
        crash between its records' sends and its offset's commit, some of them may be
        stored and others not) is routed again, not taken for its own duplicate."""
        mine = request_id.encode()

        def seen_before(connection_id: str, key: str, window_ms: int) -> bool:
            entry, now = f"{connection_id}:{key}".encode(), now_ms()
            known = self.entries.get(entry)
            value = b"%d:%d:%s" % (now + window_ms, partition, mine)
            if known is not None:
                until, _, made_by = known.split(b":", 2)
                if int(until) > now:
                    if made_by != mine:
                        return True
                    # The request's own mark, routed again: its send may not have been
                    # made (the queue was full) or acknowledged, so it is sent again.
                    value = known
            self.entries[entry] = value
            send = partial(sends.send, self.topic, value, entry, partition=partition)
            if held is None:
                send()
            else:
                held.append(send)
            return False

        return seen_before

    def expire(self, producer: AsyncProducer) -> int:
        """Forget expired entries and tombstone them; return how many."""
        now = now_ms()
        expired = [
            (entry, value)
            for entry, value in self.entries.items()
            if int(value.split(b":")[0]) <= now
        ]
        for entry, value in expired:
            del self.entries[entry]
            # Not awaited: a lost tombstone only means the entry is read back, expired.
            producer.send(self.topic, None, entry, partition=partition_of(value))
        return len(expired)
