"""Topics as they are on a broker: their prefixed names and creation settings (DESIGN
section 2).  The logical names, tiers and groups are the domain's (``domain/topics.py``)
and are named here too, so that services need one module."""

from __future__ import annotations

from dataclasses import dataclass

from hookhouse.common.domain.limits import TOPIC_MAX_MESSAGE_BYTES
from hookhouse.common.domain.topics import (
    CONFIG,
    DEDUP,
    DELIVERER_GROUP,
    DELIVERIES,
    DLQ,
    GROUPS,
    HELD,
    LANES,
    ORDERED,
    RECORDS,
    RELEASER_GROUP,
    REQUESTS,
    RETRY_TIERS,
    ROUTER_GROUP,
    SINK_GROUP,
)
from hookhouse.common.settings import Settings

__all__ = [
    "CONFIG",
    "DEDUP",
    "DELIVERER_GROUP",
    "DELIVERIES",
    "DLQ",
    "GROUPS",
    "HELD",
    "LANES",
    "ORDERED",
    "RECORDS",
    "RELEASER_GROUP",
    "REQUESTS",
    "RETRY_TIERS",
    "ROUTER_GROUP",
    "SINK_GROUP",
    "TopicSpec",
    "group",
    "name",
    "retry_topic",
    "specs",
]


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str]


def name(settings: Settings, topic: str) -> str:
    return f"{settings.topic_prefix}{topic}"


# The prefix every release used before consumer groups were named after it.
DEFAULT_PREFIX: str = Settings.model_fields["topic_prefix"].default


def group(settings: Settings, logical: str) -> str:
    """The id of consumer group ``logical`` on the broker: prefixed like the topics, so
    that two stacks on one cluster never share a group (a shared group rebalances both
    at each join, and the same static member name in both fences one of them).  With
    the default prefix the id stays ``logical`` (``hookhouse-router``...), so an
    upgraded stack keeps its committed offsets."""
    prefix = settings.topic_prefix
    return logical if prefix == DEFAULT_PREFIX else f"{prefix}{logical}"


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
    month_ms = str(30 * 86400 * 1000)
    parts = settings.topic_partitions
    out = [
        TopicSpec(name(settings, REQUESTS), parts, delete),
        # One partition: the configuration log is small and needs one total order.
        TopicSpec(name(settings, CONFIG), 1, {**base, "cleanup.policy": "compact"}),
        TopicSpec(name(settings, DELIVERIES), parts, delete),
        TopicSpec(name(settings, RECORDS), parts, delete),
        TopicSpec(name(settings, DLQ), parts, {**delete, "retention.ms": month_ms}),
        # What a paused connection holds is kept this long (see router/release.py).
        TopicSpec(name(settings, HELD), parts, {**delete, "retention.ms": month_ms}),
        # Partition n holds what requests' partition n remembers: as many partitions.
        TopicSpec(name(settings, DEDUP), parts, {**base, "cleanup.policy": "compact"}),
        # A key's events wait here until the one ahead of them is done: kept as long as
        # a paused connection's.  Partition n of ``lanes`` is the state of the keys of
        # partition n of ``ordered``: as many partitions.
        TopicSpec(name(settings, ORDERED), parts, {**delete, "retention.ms": month_ms}),
        TopicSpec(name(settings, LANES), parts, {**base, "cleanup.policy": "compact"}),
    ]
    out += [TopicSpec(retry_topic(settings, tier), parts, delete) for tier, _ in RETRY_TIERS]
    return out
