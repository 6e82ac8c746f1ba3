"""A connection's rules, checked before they are written to the config log; pure.

Shapes are Hookdeck's (API 2024-03-01), at most one rule of each type:

- ``{"type": "retry", "strategy": "linear"|"exponential", "interval": ms, "count": n,
  "response_status_codes": ["500-599", "!401"]}``
- ``{"type": "filter", "body": F, "headers": F, "query": F, "path": F}`` (see filters.py)
- ``{"type": "transform", "transformation_id": "trs_..."}``
- ``{"type": "delay", "delay": ms}``, up to 24 hours
- ``{"type": "deduplicate", "window": ms, "include_fields": [...] | "exclude_fields": [...]}``,
  a window from 1 second to 1 hour; fields are paths such as ``body.id`` or ``headers.x-id``

Transformations and filters apply in the order the list gives them (Hookdeck lets the
order be chosen); the others' place in the list does not matter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeGuard

from hookhouse.common.domain.filters import InvalidFilter, compile_filter
from hookhouse.common.domain.retry import InvalidRetryRule, policy_from_rules

RULE_TYPES = ("retry", "filter", "transform", "delay", "deduplicate")
FILTER_PARTS = ("body", "headers", "query", "path")
MAX_DELAY_MS = 24 * 3600 * 1000
DEDUP_WINDOW_MS = (1_000, 3600 * 1000)


class InvalidRule(ValueError):
    """The message names the rule and what is wrong with it."""


def check_rules(rules: Any, transformation_exists: Callable[[str], bool]) -> list[dict[str, Any]]:
    """The rules, unchanged, or :class:`InvalidRule`."""
    if rules is None:
        return []
    if not isinstance(rules, list):
        raise InvalidRule("rules must be a list of rule objects")
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        where = f"rules[{index}]"
        if not isinstance(rule, dict) or rule.get("type") not in RULE_TYPES:
            raise InvalidRule(f"{where}: 'type' must be one of {', '.join(RULE_TYPES)}")
        kind = rule["type"]
        if kind in seen:
            raise InvalidRule(f"{where}: a connection has at most one {kind} rule")
        seen.add(kind)
        try:
            _check(kind, rule, transformation_exists)
        except (InvalidFilter, InvalidRetryRule, InvalidRule) as exc:
            raise InvalidRule(f"{where} ({kind}): {exc}") from exc
    return rules


def _check(kind: str, rule: dict[str, Any], transformation_exists: Callable[[str], bool]) -> None:
    if kind == "retry":
        policy_from_rules([rule])
    elif kind == "filter":
        parts = [part for part in FILTER_PARTS if part in rule]
        if not parts:
            raise InvalidRule(f"give at least one of {', '.join(FILTER_PARTS)}")
        for part in parts:
            compile_filter(rule[part])
    elif kind == "transform":
        wanted = rule.get("transformation_id")
        if not isinstance(wanted, str) or not transformation_exists(wanted):
            raise InvalidRule(f"no transformation with id {wanted!r} in this project")
    elif kind == "delay":
        delay = rule.get("delay")
        if not _whole(delay) or not 0 <= delay <= MAX_DELAY_MS:
            raise InvalidRule(f"'delay' must be milliseconds from 0 to {MAX_DELAY_MS} (24 h)")
    else:  # deduplicate
        window = rule.get("window")
        low, high = DEDUP_WINDOW_MS
        if not _whole(window) or not low <= window <= high:
            raise InvalidRule(f"'window' must be milliseconds from {low} (1 s) to {high} (1 h)")
        include, exclude = rule.get("include_fields"), rule.get("exclude_fields")
        if include and exclude:
            raise InvalidRule("give include_fields or exclude_fields, not both")
        for name, fields in (("include_fields", include), ("exclude_fields", exclude)):
            if fields is not None and not (
                isinstance(fields, list) and all(isinstance(f, str) and f for f in fields)
            ):
                raise InvalidRule(f"'{name}' must be a list of field paths such as 'body.id'")


def _whole(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
