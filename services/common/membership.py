"""Where a consumer stands in its group, read from librdkafka's statistics.

librdkafka reports its group state every ``statistics.interval.ms`` as JSON; its
``cgrp`` object says whether the group coordinator is reached (``state``), whether a
join or rebalance is under way (``join_state``) and how many partitions are assigned
(``assignment_size``).  A consumer is ready once it is a settled member: with
partitions (``assigned``), or with none because the group has more members than
partitions (``idle``: a surplus replica, healthy and waiting to take over).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

State = Literal["joining", "rebalancing", "assigned", "idle"]


@dataclass(frozen=True)
class Membership:
    state: State
    partitions: int = 0

    @property
    def ready(self) -> bool:
        return self.state in ("assigned", "idle")

    def describe(self) -> dict[str, Any]:
        return {"state": self.state, "partitions": self.partitions}


JOINING = Membership("joining")


def membership(stats: dict[str, Any]) -> Membership:
    """The membership that a statistics report (parsed) describes."""
    group = stats.get("cgrp")
    if not isinstance(group, dict):
        return JOINING
    partitions = group.get("assignment_size")
    partitions = partitions if isinstance(partitions, int) and partitions >= 0 else 0
    settled = group.get("state") == "up" and group.get("join_state") == "steady"
    if not settled:
        joined_before = isinstance(group.get("rebalance_cnt"), int) and group["rebalance_cnt"] > 0
        return Membership("rebalancing" if joined_before else "joining", partitions)
    return Membership("assigned" if partitions else "idle", partitions)
