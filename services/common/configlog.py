"""The configuration log on Kafka: every service's reader, and the writers' append.

A reader thread assigns the single partition of the ``config`` topic from the
beginning (no consumer group: every process sees the whole log), applies each record
to a :class:`ConfigState` and records how far it has read.  A writer appends a record,
waits for the broker's ack, then waits until its own reader has applied that offset —
read your writes, as Kafka Connect and the Schema Registry do.

A record the state refuses (its name is taken: see ``config.py``) is remembered by
offset; its writer learns it from :meth:`ConfigLog.put`, which then appends the
version the state holds under the same key, so that compaction, which keeps only a
key's last record, can never bring the refused one back.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

import orjson
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)

from hookhouse.common import topics
from hookhouse.common.domain.config import ConfigState, record_key
from hookhouse.common.kafka import client_config, producer_config, serve_logs
from hookhouse.common.sealing import MARK, Sealer
from hookhouse.common.settings import Settings

FETCH_WAIT_MS = 2000

log = logging.getLogger(__name__)


class ConfigLog:
    def __init__(self, settings: Settings) -> None:
        self.topic = topics.name(settings, topics.CONFIG)
        self.state = ConfigState()
        self._settings = settings
        self._sealer = Sealer(settings.config_keys.get_secret_value())
        self._applied = -1  # offset of the last record applied
        self._refused: set[int] = set()  # offsets of records the state refused
        self._caught_up = threading.Event()
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._producer: Producer | None = None
        self._probe: Consumer | None = None
        self._probe_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="config-log", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        if self._producer is not None:
            self._producer.flush(5)
        if self._probe is not None:
            self._probe.close()

    @property
    def ready(self) -> bool:
        """True once the reader has reached the end of the log as it was at start."""
        return self._caught_up.is_set()

    def wait_ready(self, timeout: float) -> bool:
        return self._caught_up.wait(timeout)

    def _run(self) -> None:
        consumer = Consumer(
            {
                **client_config(self._settings),
                "group.id": f"hookhouse-config-{uuid.uuid4().hex}",  # never joined
                "enable.auto.commit": False,
                "enable.partition.eof": True,
                # A change is fetched as soon as it is written; idle, each process's
                # reader sends one fetch per wait.
                "fetch.wait.max.ms": FETCH_WAIT_MS,
            }
        )
        consumer.assign([TopicPartition(self.topic, 0, OFFSET_BEGINNING)])
        target = self._initial_end(consumer)
        if target == 0:
            self._caught_up.set()
        try:
            while not self._stopping.is_set():
                msg = consumer.poll(0.2)
                if msg is None:
                    continue
                error = msg.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        self._caught_up.set()
                    else:
                        log.warning("config log: %s", error)
                    continue
                key, offset = msg.key(), msg.offset()
                if key is None or offset is None:
                    continue
                if isinstance(key, str):
                    key = key.encode()
                with self._changed:
                    try:
                        if not self.state.apply(key, self._opened(msg.value())):
                            self._refused.add(offset)
                    except (ValueError, KeyError) as exc:
                        log.error("config record %s at offset %d unusable: %s", key, offset, exc)
                    self._applied = offset
                    self._changed.notify_all()
                if offset + 1 >= target:
                    self._caught_up.set()
        finally:
            consumer.close()

    def _opened(self, value: bytes | None) -> bytes | None:
        """A record's value with its sealed secrets opened (``common/sealing.py``)."""
        if value is None or MARK not in value:
            return value
        return orjson.dumps(self._sealer.open(orjson.loads(value)))

    def _initial_end(self, consumer: Consumer) -> int:
        while not self._stopping.is_set():
            try:
                _, high = consumer.get_watermark_offsets(
                    TopicPartition(self.topic, 0), timeout=5, cached=False
                )
                return int(high)
            except KafkaException as exc:
                log.warning("config log: waiting for Kafka: %s", exc)
                time.sleep(1)
        return 0

    def catch_up(self, timeout: float) -> bool:
        """Block until everything in the log right now has been applied.

        For a lookup that missed: the resource may have been written a moment ago and
        not yet read by this process.  Blocking; call it from a thread in async code.
        """
        with self._probe_lock:
            if self._probe is None:
                self._probe = Consumer(
                    {**client_config(self._settings), "group.id": "hookhouse-config-probe"}
                )
            try:
                _, high = self._probe.get_watermark_offsets(
                    TopicPartition(self.topic, 0), timeout=timeout, cached=False
                )
            except KafkaException:
                return False
            finally:
                serve_logs(self._probe)  # it is never assigned partitions
        return self.wait_applied(int(high) - 1, timeout)

    def wait_applied(self, offset: int, timeout: float) -> bool:
        """Block until the record at ``offset`` has been applied to the state."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._applied < offset:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def put(self, kind: str, resource_id: str, value: dict[str, Any] | None) -> bool:
        """Write one resource (``None`` deletes it); False if the log refused it.

        Refused means another resource took the name first (in log order, on every
        replica); the key's last record is then set back to what the state holds.
        Blocking: call it from a thread in async code.
        """
        offset = self.append(kind, resource_id, value)
        with self._changed:
            if offset not in self._refused:
                return True
            self._refused.discard(offset)
        self.append(kind, resource_id, self.state.get(kind, resource_id))
        return False

    def append(
        self, kind: str, resource_id: str, value: dict[str, Any] | None, timeout: float = 10.0
    ) -> int:
        """Write one record (``None`` deletes) and return its offset once this process
        has applied it.  Blocking: call it from a thread in async code.
        """
        if self._producer is None:
            self._producer = Producer(producer_config(self._settings))
        done: dict[str, Any] = {}

        def on_delivery(err: Any, msg: Any) -> None:
            done["err"], done["offset"] = err, msg.offset()

        payload = None if value is None else orjson.dumps(self._sealer.seal(value))
        self._producer.produce(
            self.topic, key=record_key(kind, resource_id), value=payload, on_delivery=on_delivery
        )
        self._producer.flush(timeout)
        if "err" not in done:
            raise TimeoutError("the config write was not acknowledged in time")
        if done["err"] is not None:
            raise KafkaException(done["err"])
        if not self.wait_applied(done["offset"], timeout):
            raise TimeoutError("the config write was not read back in time")
        return int(done["offset"])
