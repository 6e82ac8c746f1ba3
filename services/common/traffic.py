"""What each Kafka client of this process asked of the brokers, as metrics.

librdkafka reports every ``statistics.interval.ms`` (``STATISTICS_EVERY_MS``) a JSON
document of counts since the client started: per broker, the requests sent by kind
(``req``: Produce, Fetch, OffsetCommit, Heartbeat, Metadata, …), and per topic
partition the records produced (``txmsgs``) and consumed (``rxmsgs``).  ``/metrics``
serves each client's latest report as two counters:

- ``hookhouse_kafka_requests_total{client, request}``;
- ``hookhouse_kafka_records_total{client, topic, direction}`` (``produced`` or
  ``consumed``).

``client`` is librdkafka's name of the client (``hookhouse#producer-1``), unique in a
process.  A report is at most a second old, so a scrape can lag that much behind.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from hookhouse.common.metrics import REGISTRY

STATISTICS_EVERY_MS = 1000


@dataclass(frozen=True)
class Traffic:
    """One client's counts since it started."""

    requests: dict[str, int] = field(default_factory=dict)  # kind -> requests sent
    records: dict[tuple[str, str], int] = field(default_factory=dict)  # (topic, dir) -> n


def _count(value: object) -> int:
    return value if isinstance(value, int) and value > 0 else 0


def traffic(stats: dict[str, Any]) -> Traffic:
    """The counts in one parsed statistics report (missing or odd parts count 0)."""
    requests: dict[str, int] = {}
    brokers = stats.get("brokers")
    for broker in brokers.values() if isinstance(brokers, dict) else ():
        sent = broker.get("req") if isinstance(broker, dict) else None
        for kind, n in sent.items() if isinstance(sent, dict) else ():
            if _count(n):
                requests[kind] = requests.get(kind, 0) + n
    records: dict[tuple[str, str], int] = {}
    topics = stats.get("topics")
    for topic, about in topics.items() if isinstance(topics, dict) else ():
        partitions = about.get("partitions") if isinstance(about, dict) else None
        for number, partition in partitions.items() if isinstance(partitions, dict) else ():
            if number == "-1" or not isinstance(partition, dict):
                continue  # librdkafka's partition for records not yet assigned one
            for key, direction in (("txmsgs", "produced"), ("rxmsgs", "consumed")):
                if n := _count(partition.get(key)):
                    records[(topic, direction)] = records.get((topic, direction), 0) + n
    return Traffic(requests, records)


class KafkaTraffic(Collector):
    """The latest counts of every client in this process."""

    def __init__(self) -> None:
        self._clients: dict[str, Traffic] = {}
        self._lock = threading.Lock()

    def report(self, stats: dict[str, Any]) -> None:
        """Keep a parsed report (a client's statistics callback, any thread)."""
        name = stats.get("name")
        if isinstance(name, str):
            counts = traffic(stats)
            with self._lock:
                self._clients[name] = counts

    def report_json(self, text: str) -> None:
        """``report`` of the JSON text librdkafka hands a ``stats_cb``."""
        try:
            stats = orjson.loads(text)
        except orjson.JSONDecodeError:
            return
        if isinstance(stats, dict):
            self.report(stats)

    def collect(self) -> Iterator[CounterMetricFamily]:
        with self._lock:
            clients = dict(self._clients)
        requests = CounterMetricFamily(
            "hookhouse_kafka_requests",
            "Requests sent to the brokers by each Kafka client, by kind.",
            labels=["client", "request"],
        )
        records = CounterMetricFamily(
            "hookhouse_kafka_records",
            "Records produced or consumed by each Kafka client, by topic.",
            labels=["client", "topic", "direction"],
        )
        for name, counts in sorted(clients.items()):
            for kind, n in sorted(counts.requests.items()):
                requests.add_metric([name, kind], n)
            for (topic, direction), n in sorted(counts.records.items()):
                records.add_metric([name, topic, direction], n)
        yield requests
        yield records


KAFKA_TRAFFIC = KafkaTraffic()
REGISTRY.register(KAFKA_TRAFFIC)
