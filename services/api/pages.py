"""List queries in Hookdeck's shape: filters, ``order_by``, ``dir``, ``limit`` and seek
cursors (``next`` / ``prev``), applied to resources held in memory (the config view).

A cursor names the last (``next``) or first (``prev``) row of a page by its sort value
and id, so a page never repeats or skips a row when others are created meanwhile.
Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from hookhouse.common.domain.times import iso_ms

MAX_LIMIT = 250
DEFAULT_LIMIT = 100

SortKey = tuple[str, str]


class InvalidQuery(ValueError):
    """A list parameter that cannot be used; the message names it."""


@dataclass(frozen=True)
class ListQuery:
    order_by: str
    descending: bool
    limit: int
    next: SortKey | None
    prev: SortKey | None


def encode_cursor(key: SortKey) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(key))).decode().rstrip("=")


def decode_cursor(text: str, name: str = "cursor") -> SortKey:
    """The sort key in cursor ``text``, given as parameter ``name``."""
    refusal = f"'{name}' is not a cursor this API gave out."
    try:
        value = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise InvalidQuery(refusal) from exc
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        raise InvalidQuery(refusal)
    return value[0], value[1]


def list_query(params: Mapping[str, str], order_fields: Sequence[str]) -> ListQuery:
    order_by = params.get("order_by", order_fields[0])
    if order_by not in order_fields:
        raise InvalidQuery(f"'order_by' must be one of {', '.join(order_fields)}.")
    direction = params.get("dir", "desc")
    if direction not in ("asc", "desc"):
        raise InvalidQuery("'dir' must be asc or desc.")
    raw_limit = params.get("limit", str(DEFAULT_LIMIT))
    # ASCII digits only: "²".isdigit() holds, and int("²") raises.
    if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= MAX_LIMIT:
        raise InvalidQuery(f"'limit' must be a whole number from 1 to {MAX_LIMIT}.")
    if params.get("next") and params.get("prev"):
        raise InvalidQuery("give 'next' or 'prev', not both.")
    return ListQuery(
        order_by,
        direction == "desc",
        int(raw_limit),
        decode_cursor(params["next"], "next") if params.get("next") else None,
        decode_cursor(params["prev"], "prev") if params.get("prev") else None,
    )


def boolean(params: Mapping[str, str], name: str) -> bool | None:
    value = params.get(name)
    if value is None:
        return None
    if value not in ("true", "false"):
        raise InvalidQuery(f"'{name}' must be true or false.")
    return value == "true"


COMPARISONS = {"gte": ">=", "gt": ">", "lte": "<=", "lt": "<"}
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2299, 12, 31, 23, 59, 59, tzinfo=UTC)


@dataclass(frozen=True)
class TimeBound:
    field: str
    op: str  # one of COMPARISONS' values
    at: str  # RFC 3339, UTC, milliseconds: compares as text like the stored times

    def admits(self, value: str | None) -> bool:
        if not value:
            return False
        return {
            ">=": value >= self.at,
            ">": value > self.at,
            "<=": value <= self.at,
            "<": value < self.at,
        }[self.op]


def time_bounds(params: Mapping[str, str], fields: Sequence[str]) -> list[TimeBound]:
    """Hookdeck's time-range filters: ``created_at[gte]=2026-01-01T00:00:00Z`` and so on
    (``gte``, ``gt``, ``lte``, ``lt``) for each of ``fields``."""
    bounds = []
    for name in fields:
        for op, sign in COMPARISONS.items():
            given = params.get(f"{name}[{op}]")
            if given is not None:
                moment = parse_time(f"{name}[{op}]", given)
                bounds.append(TimeBound(name, sign, iso_ms(int(moment.timestamp() * 1000))))
    return bounds


def parse_time(name: str, text: str) -> datetime:
    """The ISO 8601 time in parameter ``name`` (UTC when it names no zone), within what
    ClickHouse's DateTime64 holds."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidQuery(f"'{name}' must be an ISO 8601 time.") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not EARLIEST <= moment <= LATEST:
        raise InvalidQuery(f"'{name}' must be a time from 1900 to 2299.")
    return moment


def page(
    rows: Iterable[dict[str, Any]],
    query: ListQuery,
    shape: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """One page of ``rows`` (already filtered) in Hookdeck's paginated envelope."""

    def key(row: dict[str, Any]) -> SortKey:
        return str(row.get(query.order_by) or ""), str(row["id"])

    ordered = sorted(rows, key=key, reverse=query.descending)
    keys = [key(row) for row in ordered]

    def before(k: SortKey, cursor: SortKey) -> bool:
        return k > cursor if query.descending else k < cursor

    if query.prev is not None:
        earlier = [i for i, k in enumerate(keys) if before(k, query.prev)]
        chosen = earlier[-query.limit :]
    else:
        later = [i for i, k in enumerate(keys) if query.next is None or before(query.next, k)]
        chosen = later[: query.limit]
    first, last = (chosen[0], chosen[-1]) if chosen else (None, None)
    return {
        "pagination": {
            "order_by": query.order_by,
            "dir": "desc" if query.descending else "asc",
            "limit": query.limit,
            "prev": encode_cursor(keys[first]) if first is not None and first > 0 else None,
            "next": encode_cursor(keys[last])
            if last is not None and last + 1 < len(keys)
            else None,
        },
        "count": len(chosen),
        "models": [shape(ordered[i]) for i in chosen],
    }


def seek_page(
    rows: list[dict[str, Any]],
    query: ListQuery,
    key: Callable[[dict[str, Any]], SortKey],
    shape: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """The envelope of a page read by seeking (``queries.select``): ``rows`` holds up to
    ``limit + 1`` rows in reading order, backwards from the cursor for a ``prev`` page."""
    more = len(rows) > query.limit
    chosen = rows[: query.limit]
    if query.prev is not None:
        chosen.reverse()
        before, after = more, True
    else:
        before, after = query.next is not None, more
    return {
        "pagination": {
            "order_by": query.order_by,
            "dir": "desc" if query.descending else "asc",
            "limit": query.limit,
            "prev": encode_cursor(key(chosen[0])) if chosen and before else None,
            "next": encode_cursor(key(chosen[-1])) if chosen and after else None,
        },
        "count": len(chosen),
        "models": [shape(row) for row in chosen],
    }
