"""Topic names and their creation settings (DESIGN section 2), and consumer groups."""

from __future__ import annotations

from dataclasses import dataclass

from hookhouse.common.limits import TOPIC_MAX_MESSAGE_BYTES
from hookhouse.common.settings import Settings

REQUESTS = "requests"
CONFIG = "config"
DELIVERIES = "deliveries"
DLQ = "dlq"
RECORDS = "records"
HELD = "held"  # deliveries of paused connections, until unpause (key: connection id)
DEDUP = "dedup"  # the router's deduplication memory (router/dedup.py), compacted
# Retry tiers, shortest first: (name suffix, delay in seconds).  Used by the deliverer.
RETRY_TIERS: tuple[tuple[str, int], ...] = (
    ("5s", 5),
    ("1m", 60),
    ("10m", 600),
    ("1h", 3600),
    ("6h", 21600),
)

# Consumer groups.
ROUTER_GROUP = "hookhouse-router"
DELIVERER_GROUP = "hookhouse-deliverer"
SINK_GROUP = "hookhouse-sink"
RELEASER_GROUP = "hookhouse-releaser"
GROUPS = (ROUTER_GROUP, DELIVERER_GROUP, SINK_GROUP, RELEASER_GROUP)


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str]


def name(settings: Settings, topic: str) -> str:
    return f"{settings.topic_prefix}{topic}"


def retry_topic(settings: Settings, tier: str) -> str:
    return name(settings, f"retry.{tier}")


def specs(settings: Settings) -> list[TopicSpec]:
    """Every topic hookhouse needs, with partitions and cleanup settings."""
    retention_ms = str(settings.retention_hours * 3600 * 1000)
    base = {
        "min.insync.replicas": str(settings.min_insync_replicas),
        "max.message.bytes": str(TOPIC_MAX_MESSAGE_BYTES),
    }
    delete = {**base, "cleanup.policy": "delete", "retention.ms": retention_ms}
    parts = settings.topic_partitions
    out = [
        TopicSpec(name(settings, REQUESTS), parts, delete),
        # One partition: the configuration log is small and needs one total order.
        TopicSpec(name(settings, CONFIG), 1, {**base, "cleanup.policy": "compact"}),
        TopicSpec(name(settings, DELIVERIES), parts, delete),
        TopicSpec(name(settings, RECORDS), parts, delete),
        TopicSpec(name(settings, DLQ), parts, {**delete, "retention.ms": str(30 * 86400 * 1000)}),
        # What a paused connection holds is kept this long (see router/release.py).
        TopicSpec(name(settings, HELD), parts, {**delete, "retention.ms": str(30 * 86400 * 1000)}),
        # Partition n holds what requests' partition n remembers: as many partitions.
        TopicSpec(name(settings, DEDUP), parts, {**base, "cleanup.policy": "compact"}),
    ]
    out += [TopicSpec(retry_topic(settings, tier), parts, delete) for tier, _ in RETRY_TIERS]
    return out
