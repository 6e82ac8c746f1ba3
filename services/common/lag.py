"""What waits in Kafka, as Prometheus gauges read from the broker when scraped.

``hookhouse_consumer_lag{group, topic, partition}``: the end offset minus the group's
committed offset, for this stack's consumer groups (``topics.group``; labelled with
their unprefixed names) on its topics (a partition shows once its group committed
there).  ``hookhouse_retry_tier_depth{tier}``: records waiting in each retry tier (the
deliverer's lag on it).  ``hookhouse_dlq_depth``: records kept on the dead-letter
topic.  One broker round of admin calls per scrape, at most every ``cache_seconds``;
the API serves them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._listoffsets import OffsetSpec
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from hookhouse.common import metrics, topics
from hookhouse.common.kafka import client_config, serve_logs
from hookhouse.common.settings import Settings

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
LATEST = OffsetSpec.latest()  # type: ignore[no-untyped-call]
EARLIEST = OffsetSpec.earliest()  # type: ignore[no-untyped-call]


@dataclass
class Reading:
    lag: dict[tuple[str, str, int], int] = field(default_factory=dict)
    dlq: int = 0


class KafkaLag(Collector):
    def __init__(self, settings: Settings, cache_seconds: float = 5.0) -> None:
        self.settings = settings
        self.cache_seconds = cache_seconds
        self._admin: AdminClient | None = None
        self._lock = threading.Lock()
        self._read_at = 0.0
        self._reading: Reading | None = None

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield from families(Reading())  # names only: registering never calls the broker

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            if time.monotonic() - self._read_at > self.cache_seconds:
                try:
                    self._reading = self.read()
                except Exception as exc:  # the broker away: no figures rather than old ones
                    log.warning("kafka lag not read: %s", exc)
                    self._reading = None
                if self._admin is not None:
                    serve_logs(self._admin)
                self._read_at = time.monotonic()
            reading = self._reading
        if reading is not None:
            yield from families(reading)

    def read(self) -> Reading:
        if self._admin is None:
            self._admin = AdminClient(client_config(self.settings))
        admin = self._admin
        prefix = self.settings.topic_prefix
        listed = admin.list_topics(timeout=TIMEOUT_SECONDS).topics
        mine = {
            TopicPartition(name, p): LATEST
            for name, topic in listed.items()
            if name.startswith(prefix)
            for p in topic.partitions
        }
        ends = {
            (tp.topic, tp.partition): info.offset
            for tp, info in wait_all(admin.list_offsets(mine, request_timeout=TIMEOUT_SECONDS))
        }
        dlq = topics.name(self.settings, topics.DLQ)
        earliest = {tp: EARLIEST for tp in mine if tp.topic == dlq}
        starts = wait_all(admin.list_offsets(earliest, request_timeout=TIMEOUT_SECONDS))
        reading = Reading(dlq=sum(ends[(tp.topic, tp.partition)] - i.offset for tp, i in starts))
        for group in topics.GROUPS:  # the client asks for one group per call
            asked = [ConsumerGroupTopicPartitions(topics.group(self.settings, group))]
            try:
                (future,) = admin.list_consumer_group_offsets(asked).values()
                committed = future.result(timeout=TIMEOUT_SECONDS).topic_partitions
            except Exception as exc:  # a group the broker does not know yet
                log.debug("offsets of %s not read: %s", group, exc)
                continue
            for tp in committed:
                end = ends.get((tp.topic, tp.partition))
                if end is not None and tp.offset >= 0:
                    key = (group, tp.topic.removeprefix(prefix), tp.partition)
                    reading.lag[key] = max(0, end - tp.offset)
        return reading


def wait_all(futures: Mapping[TopicPartition, Future[Any]]) -> list[tuple[TopicPartition, Any]]:
    return [(tp, future.result(timeout=TIMEOUT_SECONDS)) for tp, future in futures.items()]


def families(reading: Reading) -> Iterator[GaugeMetricFamily]:
    lag = GaugeMetricFamily(
        metrics.CONSUMER_LAG,
        metrics.HELP[metrics.CONSUMER_LAG],
        labels=["group", "topic", "partition"],
    )
    tiers = GaugeMetricFamily(
        metrics.RETRY_TIER_DEPTH, metrics.HELP[metrics.RETRY_TIER_DEPTH], labels=["tier"]
    )
    depth = {tier: 0 for tier, _ in topics.RETRY_TIERS}
    for (group, topic, partition), value in sorted(reading.lag.items()):
        lag.add_metric([group, topic, str(partition)], value)
        tier = topic.removeprefix("retry.")
        if group == topics.DELIVERER_GROUP and tier in depth:
            depth[tier] += value
    for tier, value in depth.items():
        tiers.add_metric([tier], value)
    dlq = GaugeMetricFamily(metrics.DLQ_DEPTH, metrics.HELP[metrics.DLQ_DEPTH])
    dlq.add_metric([], reading.dlq)
    yield from (lag, tiers, dlq)
