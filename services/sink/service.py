"""The sink process: ``records`` → ClickHouse in batches, offsets committed after insert.

Per batch, top to bottom in :meth:`Sink.flush`: group rows by table → insert each
block → (ClickHouse down: pause partitions, keep polling, back off, try again) → mark
every record done → commit.  Inserts are idempotent on ids (ReplacingMergeTree with a
version), so a batch inserted twice after a crash yields the same rows.  A row that
ClickHouse refuses is isolated by halving its block and dead-lettered.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time

import uvloop
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError
from confluent_kafka import Message as Record

from hookhouse.common import clickhouse, metrics, topics
from hookhouse.common.consumer import (
    IDLE_WAIT_SECONDS,
    AsyncConsumer,
    membership_of,
    position,
    send_dead_letter,
)
from hookhouse.common.health import Readiness
from hookhouse.common.kafka import AsyncProducer, KafkaProbe, ensure_topics
from hookhouse.common.runtime import serve_beside, start
from hookhouse.common.settings import Settings, load
from hookhouse.sink.batch import Batch, Block, InvalidRecord

log = logging.getLogger(__name__)

GROUP = topics.SINK_GROUP
INSERT_SETTINGS = {
    "input_format_skip_unknown_fields": 1,
    "date_time_input_format": "best_effort",
}
MAX_BACKOFF_SECONDS = 10.0
FETCH_WAIT_MS = 500


def header(msg: Record, name: str) -> bytes | None:
    headers = msg.headers() or []
    pairs = headers.items() if isinstance(headers, dict) else headers
    for key, value in pairs:
        if key == name:
            return value.encode() if isinstance(value, str) else value
    return None


class Sink:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.database = settings.clickhouse_database
        self.dlq_topic = topics.name(settings, topics.DLQ)
        self.ch: Client | None = None
        self.consumer: AsyncConsumer | None = None
        self.producer: AsyncProducer | None = None

    def clickhouse_ok(self) -> bool:
        probe = clickhouse.client(self.settings)
        try:
            return bool(probe.command("SELECT 1") == 1)
        finally:
            probe.close()

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.to_thread(ensure_topics, self.settings)
        # A broker restart must not outlast the producer: wait for it (bounded).
        self.producer = AsyncProducer(
            self.settings, timeout=self.settings.background_produce_timeout_seconds
        )
        # The sink batches for up to sink_batch_seconds anyway: fetch lazily (a fetch
        # waits for 64 KiB or this long; idle, it is one fetch per wait).
        self.consumer = await AsyncConsumer.joining(
            self.settings,
            GROUP,
            [topics.name(self.settings, topics.RECORDS)],
            fetch_wait_ms=FETCH_WAIT_MS,
            bulk=True,
        )
        batch = Batch()
        opened = time.monotonic()
        # One batch is inserted while the next one is read: Kafka and the Python work of
        # a batch overlap ClickHouse's insert of the previous one.  At most one flush is
        # in flight, so commits stay in order and memory holds two batches at most.
        flushing: asyncio.Task[None] | None = None
        try:
            while not stop.is_set():
                room = self.settings.sink_batch_rows - len(batch)
                wait = 0.1 if batch or flushing is not None else IDLE_WAIT_SECONDS
                fresh = await self.consumer.consume(room, wait) if room > 0 else []
                if fresh and not batch:
                    opened = time.monotonic()
                for msg in fresh:
                    try:
                        batch.add(msg, header(msg, "kind"), msg.value())
                    except InvalidRecord as exc:
                        await self.dead_letter(msg, "invalid_record", str(exc))
                full = len(batch) >= self.settings.sink_batch_rows
                due = time.monotonic() - opened >= self.settings.sink_batch_seconds
                if flushing is not None and (flushing.done() or full):
                    await flushing  # raises what the flush raised
                    flushing = None
                if batch and (full or due) and flushing is None:
                    flushing = asyncio.create_task(self.flush(batch, stop))
                    batch = Batch()
            if flushing is not None:
                await flushing
            if batch:
                await self.flush(batch, stop)
        finally:
            await self.consumer.close()
            await asyncio.to_thread(self.producer.close)

    async def flush(self, batch: Batch, stop: asyncio.Event) -> None:
        """Insert every block, then mark the batch done (the consumer commits it soon
        after: a commit lost in a crash only means the batch is inserted again,
        idempotent on ids)."""
        assert self.consumer is not None
        blocks = list(batch.blocks.values())
        # Every table's block at once (ClickHouse takes them in parallel); a block that
        # fails goes through insert(), which waits out outages and isolates bad rows.
        await asyncio.to_thread(self.client)  # made once, before the threads share it
        started = time.perf_counter()
        tried = await asyncio.gather(
            *(asyncio.to_thread(self._insert, block) for block in blocks), return_exceptions=True
        )
        for block, outcome in zip(blocks, tried, strict=True):
            if isinstance(outcome, Exception):
                await self.insert(block, batch.messages, stop)
            else:
                metrics.SINK_BATCH_ROWS.observe(len(block.values))
                metrics.SINK_INSERT_LATENCY.observe(time.perf_counter() - started)
        self.consumer.done_all(batch.messages)

    async def insert(self, block: Block, batch: list[Record], stop: asyncio.Event) -> None:
        """Insert ``block``, waiting out ClickHouse outages; dead-letter refused rows."""
        assert self.consumer is not None
        backoff = 0.2
        while True:
            started = time.perf_counter()
            try:
                await asyncio.to_thread(self._insert, block)
            except OperationalError as exc:  # unreachable, timed out: an outage
                log.warning("ClickHouse insert failed: %s", exc)
            except DatabaseError as exc:
                if not refuses_rows(exc):  # no database, no table, no memory, …
                    log.error("ClickHouse cannot take inserts: %s", str(exc)[:500])
                    await self.wait_out(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                    continue
                # ClickHouse answered and refused some row: find it, dead-letter it
                if len(block.values) > 1:
                    for half in block.halves():
                        await self.insert(half, batch, stop)
                else:
                    await self.dead_letter(
                        batch[block.sources[0]], "clickhouse_refused", str(exc)[:2000]
                    )
                return
            else:
                metrics.SINK_BATCH_ROWS.observe(len(block.values))
                metrics.SINK_INSERT_LATENCY.observe(time.perf_counter() - started)
                await self.consumer.resume()
                return
            await self.wait_out(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    async def wait_out(self, backoff: float) -> None:
        """Count the failure, stop reading, and wait ``backoff`` seconds before a retry."""
        assert self.consumer is not None
        metrics.SINK_INSERT_FAILURES.inc()
        log.warning("ClickHouse unavailable; retrying in %.1fs", backoff)
        self.ch = None
        await self.consumer.pause()
        deadline = time.monotonic() + backoff
        while time.monotonic() < deadline:
            await self.consumer.consume(1, 0.1)  # paused: keeps the group alive

    def client(self) -> Client:
        """The insert client, shared by the inserting threads (no session, a socket pool)."""
        if self.ch is None:
            self.ch = clickhouse.client(self.settings, self.database)
        return self.ch

    def _insert(self, block: Block) -> None:
        self.client().raw_insert(
            block.table,
            None,
            insert_block=block.body(),
            fmt="JSONEachRow",
            settings=INSERT_SETTINGS,
        )

    async def dead_letter(self, msg: Record, reason: str, message: str) -> None:
        assert self.producer is not None
        log.warning("dead-lettering %s: %s", position(msg), message)
        await send_dead_letter(
            self.producer, self.dlq_topic, "sink", reason, msg, {"message": message}
        )


# ClickHouse error codes that say the server cannot take inserts at all, whatever
# the rows: wait and retry (never dead-letter good rows for them).
SYSTEMIC_ERRORS = frozenset(
    {
        60,  # UNKNOWN_TABLE
        81,  # UNKNOWN_DATABASE
        159,  # TIMEOUT_EXCEEDED
        164,  # READONLY
        202,  # TOO_MANY_SIMULTANEOUS_QUERIES
        203,  # NO_FREE_CONNECTION
        209,  # SOCKET_TIMEOUT
        210,  # NETWORK_ERROR
        236,  # ABORTED
        241,  # MEMORY_LIMIT_EXCEEDED
        242,  # TABLE_IS_READ_ONLY
        252,  # TOO_MANY_PARTS
        279,  # ALL_CONNECTION_TRIES_FAILED: a shard of a cluster is unreachable
        319,  # UNKNOWN_STATUS_OF_INSERT
        394,  # QUERY_WAS_CANCELLED
        425,  # SYSTEM_ERROR
        497,  # ACCESS_DENIED
        516,  # AUTHENTICATION_FAILED
    }
)
_CODE = re.compile(r"[Cc]ode: (\d+)")


def refuses_rows(exc: Exception) -> bool:
    """Did ClickHouse refuse the data (bisect, dead-letter) rather than fail as a whole?"""
    found = _CODE.search(str(exc))
    return found is None or int(found.group(1)) not in SYSTEMIC_ERRORS


async def serve(settings: Settings) -> None:
    sink = Sink(settings)
    readiness = Readiness(
        {"kafka": KafkaProbe(settings), "clickhouse": sink.clickhouse_ok},
        group=lambda: membership_of(sink.consumer),
    )
    stop = asyncio.Event()
    await serve_beside(sink.run(stop), stop, readiness, settings, settings.sink_port)


def main() -> None:
    settings = load()
    start("sink", settings)
    uvloop.run(serve(settings))
