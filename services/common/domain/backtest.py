"""What rules not yet saved would have done to a source's stored requests; pure.

A backtest splits a connection's rules in two.  The filters ahead of any transformation
(:func:`leading_filters`) see each request as it was received, so the caller evaluates
them over every request of the range at once, inside ClickHouse where it can
(``api/filter_sql.py``).  The rest (transformations, later filters, deduplication) runs
here, request by request, on the oldest of those that passed, with the router's own
:func:`~hookhouse.common.domain.routing.route` and the deduplication memory of
``dedup.py``: :class:`Tally` counts what each became.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hookhouse.common.domain.routing import Routed

OUTCOMES = ("events", "filtered", "transformation_failed", "duplicate")
CAUSES = {"FILTERED": "filtered", "TRANSFORMATION_FAILED": "transformation_failed"}
SAMPLES = 5  # request ids kept per outcome
ERRORS = 5  # transformation errors kept, the first of each distinct text
# Rules that change what a request becomes or whether it becomes an event at all;
# the others (retry, delay) only change when and how often it is delivered.
DECIDING = frozenset({"filter", "transform", "deduplicate"})


def leading_filters(
    rules: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The filter rules ahead of the first transformation, and the deciding rules after."""
    first = next((n for n, rule in enumerate(rules) if rule.get("type") == "transform"), len(rules))
    ahead = [rule for rule in rules[:first] if rule.get("type") == "filter"]
    rest = [rule for rule in rules[first:] if rule.get("type") in DECIDING]
    rest += [rule for rule in rules[:first] if rule.get("type") == "deduplicate"]
    return ahead, rest


@dataclass
class Tally:
    """Counts per outcome, a few request ids of each, and the first errors."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    samples: dict[str, list[str]] = field(default_factory=lambda: {o: [] for o in OUTCOMES})
    errors: list[dict[str, Any]] = field(default_factory=list)

    def add(self, outcome: str, request_ids: list[str], count: int | None = None) -> None:
        """``count`` requests (``len(request_ids)`` when not given) became ``outcome``."""
        self.counts[outcome] += len(request_ids) if count is None else count
        room = SAMPLES - len(self.samples[outcome])
        self.samples[outcome] += request_ids[: max(room, 0)]

    def routed(self, request_id: str, routed: Routed) -> None:
        """One request through the rules after the leading filters (one connection)."""
        if routed.events or routed.held:
            self.add("events", [request_id])
            return
        ignored = routed.ignored[0]
        outcome = CAUSES.get(ignored.cause, "duplicate")
        self.add(outcome, [request_id])
        if outcome == "transformation_failed":
            failed = next((e for e in routed.executions if e.status == "FAILED"), None)
            error = failed.error if failed else ""
            known = {e["error"] for e in self.errors}
            if len(self.errors) < ERRORS and error not in known:
                self.errors.append({"request_id": request_id, "error": error})
