"""The closed list of hookhouse's Prometheus metrics, in one explicit registry.

Every service serves ``REGISTRY`` on ``/metrics``; the API adds the Kafka gauges of
``common/lag.py`` (names below).  Labels stay bounded: source, destination and
connection ids are bounded by configuration; request and event ids are never labels.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

M = TypeVar("M", Counter, Histogram)


class Kept(Generic[M]):
    """A labelled metric whose children are kept by their label values, for the hot
    paths: the metric's own ``labels()`` takes a lock and builds a key on every call,
    which costs more than the count itself.  The metric keeps
    every child it made anyway, so this holds no more than it does."""

    __slots__ = ("_children", "_metric")

    def __init__(self, metric: M) -> None:
        self._metric: M = metric
        self._children: dict[tuple[str, ...], M] = {}

    def labels(self, *values: str) -> M:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._metric.labels(*values)
        return child


# Gauges read from the broker when scraped (``common/lag.py``, served by the API).
CONSUMER_LAG = "hookhouse_consumer_lag"
RETRY_TIER_DEPTH = "hookhouse_retry_tier_depth"
DLQ_DEPTH = "hookhouse_dlq_depth"
HELP = {
    CONSUMER_LAG: "Records not yet consumed, by consumer group, topic and partition.",
    RETRY_TIER_DEPTH: "Records waiting in each retry tier for their due time.",
    DLQ_DEPTH: "Records kept on the dead-letter topic.",
}
# Ingest outcomes answered with a 5xx (the rest are accepted or the sender's 4xx).
INGEST_SERVER_ERRORS = ("KAFKA_UNAVAILABLE", "NOT_READY")

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

INGEST_REQUESTS = Kept(
    Counter(
        "hookhouse_ingest_requests",
        "Requests received by ingest, by outcome (accepted or the rejection cause).",
        ["source", "outcome"],
        registry=REGISTRY,
    )
)
INGEST_LATENCY = Histogram(
    "hookhouse_ingest_latency_seconds",
    "Time from request received to response sent by ingest.",
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
PRODUCE_LATENCY = Histogram(
    "hookhouse_produce_latency_seconds",
    "Time from produce to the broker's acknowledgement.",
    ["topic"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
ROUTER_EVENTS = Kept(
    Counter(
        "hookhouse_router_events",
        "Events created by the router, by status.",
        ["status"],
        registry=REGISTRY,
    )
)
ROUTER_IGNORED = Kept(
    Counter(
        "hookhouse_router_ignored_events",
        "Connections that ignored a request, by cause (FILTERED, TRANSFORMATION_FAILED, ...).",
        ["cause"],
        registry=REGISTRY,
    )
)
TRANSFORMATION_DURATION = Histogram(
    "hookhouse_transformation_duration_seconds",
    "Time of one JavaScript transformation run.",
    ["outcome"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
ATTEMPTS = Kept(
    Counter(
        "hookhouse_attempts",
        "Delivery attempts, by outcome and error code.",
        ["destination", "outcome", "error_code"],
        registry=REGISTRY,
    )
)
DELIVERY_LATENCY = Histogram(
    "hookhouse_delivery_latency_seconds",
    "Time from ingest receiving the request to the destination answering.",
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
DEAD_LETTERS = Counter(
    "hookhouse_dead_letters",
    "Records sent to the dead-letter topic, by stage and reason.",
    ["stage", "reason"],
    registry=REGISTRY,
)
SINK_BATCH_ROWS = Histogram(
    "hookhouse_sink_batch_rows",
    "Rows per ClickHouse insert.",
    buckets=(1, 10, 100, 1000, 5000, 10000, 50000),
    registry=REGISTRY,
)
SINK_INSERT_LATENCY = Histogram(
    "hookhouse_sink_insert_seconds",
    "ClickHouse insert duration.",
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
SINK_INSERT_FAILURES = Counter(
    "hookhouse_sink_insert_failures",
    "ClickHouse inserts that failed and will be retried.",
    registry=REGISTRY,
)
# Ordered delivery (``deliverer/lanes.py``), per deliverer process.
ORDERING_BLOCKED_KEYS = Gauge(
    "hookhouse_ordering_blocked_keys",
    "Ordering keys whose head event failed and waits for its next attempt.",
    registry=REGISTRY,
)
ORDERING_BLOCKED_SECONDS = Gauge(
    "hookhouse_ordering_oldest_blocked_seconds",
    "How long the longest-blocked ordering key has waited since its head first failed.",
    registry=REGISTRY,
)
ORDERING_WAITING_EVENTS = Gauge(
    "hookhouse_ordering_waiting_events",
    "Events held in memory behind their key's head.",
    registry=REGISTRY,
)
ORDERING_REPEATS = Counter(
    "hookhouse_ordering_repeats_skipped",
    "Records of ordered events already taken (routed or read again after a crash).",
    registry=REGISTRY,
)


SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}


def names() -> set[str]:
    """Every series name hookhouse exposes (``_total``, ``_bucket``, … included)."""
    found = set(HELP)
    for family in REGISTRY.collect():
        found.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
    return found
