"""The topics records travel on, by their logical (unprefixed) names, the retry tiers and
the consumer groups (DESIGN section 2).  ``common/topics.py`` names them on a broker."""

from __future__ import annotations

REQUESTS = "requests"
CONFIG = "config"
DELIVERIES = "deliveries"
DLQ = "dlq"
RECORDS = "records"
HELD = "held"  # deliveries of paused connections, until unpause (key: connection id)
DEDUP = "dedup"  # the router's deduplication memory (router/dedup.py), compacted
# Deliveries of connections with an ordering key (key: "<connection id>:<key value>"),
# and the state of each such key's lane (same key, same partition), compacted: see
# domain/lanes.py and deliverer/lanes.py.
ORDERED = "ordered"
LANES = "lanes"
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
