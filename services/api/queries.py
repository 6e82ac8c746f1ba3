"""The query API's lists as ClickHouse SQL: the caller's project in every ``WHERE``,
Hookdeck's filters, and seek pagination on ``(created_at, id)``.

A page is the rows strictly after (``next``) or before (``prev``) the cursor row in
the sort order, so rows inserted meanwhile never shift a page: an older page does not
repeat or skip rows.  Values travel as query parameters, never inside the SQL text.
Pure: it builds SQL, it runs nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from hookhouse.api import shapes
from hookhouse.api.pages import (
    COMPARISONS,
    InvalidQuery,
    ListQuery,
    SortKey,
    parse_time,
    time_bounds,
)
from hookhouse.common.domain.error_codes import UnknownErrorCode, stored_codes
from hookhouse.common.domain.times import iso_ms


@dataclass(frozen=True)
class Table:
    name: str
    # query parameter -> column, matched with IN (the parameter may repeat)
    text: Mapping[str, str] = field(default_factory=dict)
    # text filters of attempt error codes: Hookdeck's names match hookhouse's as well
    codes: frozenset[str] = frozenset()
    # query parameter -> column, a whole number: equal, or compared with [gte] and so on
    numbers: Mapping[str, str] = field(default_factory=dict)
    booleans: Mapping[str, str] = field(default_factory=dict)
    times: tuple[str, ...] = ("created_at",)
    # a text searched (case-insensitive) in these SQL expressions, any of them
    search: tuple[str, ...] = ()
    # or in the body and headers of the request this column names
    search_request: str = ""

    @property
    def searchable(self) -> bool:
        return bool(self.search or self.search_request)


REQUEST_TEXT = (
    "base64Decode(body)",
    "arrayStringConcat(mapValues(headers), '\\n')",
    "arrayStringConcat(mapKeys(headers), '\\n')",
)


TABLES = {
    "requests": Table(
        "requests",
        text={"id": "id", "source_id": "source_id", "rejection_cause": "rejection_cause"},
        numbers={"events_count": "events_count", "ignored_count": "ignored_count"},
        booleans={"verified": "verified"},
        search=REQUEST_TEXT,
    ),
    "events": Table(
        "events",
        text={
            "id": "id",
            "status": "status",
            "webhook_id": "connection_id",
            "source_id": "source_id",
            "destination_id": "destination_id",
            "request_id": "request_id",
            "error_code": "error_code",
            "waiting_for": "waiting_for",
        },
        codes=frozenset({"error_code"}),
        numbers={"response_status": "response_status", "attempts": "attempts"},
        times=("created_at", "last_attempt_at", "next_attempt_at"),
        search_request="request_id",
    ),
    "attempts": Table(
        "attempts",
        text={
            "id": "id",
            "event_id": "event_id",
            "status": "status",
            "destination_id": "destination_id",
            "trigger": "trigger",
            "error_code": "error_code",
        },
        codes=frozenset({"error_code"}),
        numbers={"response_status": "response_status", "attempt_number": "attempt_number"},
        search=("response_body", "arrayStringConcat(mapValues(response_headers), '\\n')"),
    ),
    "ignored_events": Table(
        "ignored_events",
        text={
            "id": "id",
            "request_id": "request_id",
            "webhook_id": "connection_id",
            "cause": "cause",
        },
    ),
    "transformation_executions": Table(
        "transformation_executions",
        text={
            "id": "id",
            "transformation_id": "transformation_id",
            "webhook_id": "connection_id",
            "request_id": "request_id",
            "status": "status",
        },
    ),
}


@dataclass
class Sql:
    where: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)

    def param(self, value: Any, kind: str) -> str:
        """A placeholder for ``value`` (ClickHouse type ``kind``) to put in the SQL."""
        name = f"p{len(self.parameters)}"
        self.parameters[name] = value
        return "{" + f"{name}:{kind}" + "}"

    def at(self, text: str) -> str:
        return f"parseDateTime64BestEffort({self.param(text, 'String')}, 3, 'UTC')"


WHOLE_NUMBER = re.compile(r"-?[0-9]{1,18}")  # fits ClickHouse's Int64


def whole_number(name: str, text: str) -> int:
    if not WHOLE_NUMBER.fullmatch(text):
        raise InvalidQuery(f"'{name}' must be a whole number (at most 18 digits).")
    return int(text)


def error_codes(name: str, values: list[str]) -> list[str]:
    """The stored codes that a filter ``name`` on ``values`` matches."""
    try:
        return [code for value in values for code in stored_codes(value)]
    except UnknownErrorCode as exc:
        raise InvalidQuery(f"'{name}': {exc}") from exc


def conditions(
    table: Table, project_id: str, params: Any, fixed: Mapping[str, str] | None = None
) -> Sql:
    """The ``WHERE`` of a list: the project, the filters in ``params`` (a multi-dict:
    ``getlist`` for repeated parameters) and ``fixed`` ones from the path."""
    sql = Sql()
    sql.where.append(f"project_id = {sql.param(project_id, 'String')}")
    for name, column in table.text.items():
        values = [fixed[name]] if fixed and name in fixed else params.getlist(name)
        if name in table.codes:
            values = error_codes(name, values)
        if values:
            sql.where.append(f"{column} IN {sql.param(values, 'Array(String)')}")
    for name, column in table.numbers.items():
        if params.get(name) is not None:
            number = whole_number(name, params.get(name))
            sql.where.append(f"{column} = {sql.param(number, 'Int64')}")
        for op, sign in COMPARISONS.items():
            given = params.get(f"{name}[{op}]")
            if given is not None:
                number = whole_number(f"{name}[{op}]", given)
                sql.where.append(f"{column} {sign} {sql.param(number, 'Int64')}")
    for name, column in table.booleans.items():
        flag = params.get(name)
        if flag is not None:
            if flag not in ("true", "false"):
                raise InvalidQuery(f"'{name}' must be true or false.")
            sql.where.append(f"{column} = {sql.param(flag == 'true', 'Bool')}")
    for bound in time_bounds(params, table.times):
        sql.where.append(f"{bound.field} {bound.op} {sql.at(bound.at)}")
    term = params.get("search_term")
    if term and table.searchable:
        needle = sql.param(term, "String")
        searched = table.search or REQUEST_TEXT
        found = " OR ".join(f"positionCaseInsensitiveUTF8({e}, {needle}) > 0" for e in searched)
        if table.search_request:  # the requests of this project whose text has it
            found = (
                f"{table.search_request} IN (SELECT id FROM requests "  # noqa: S608 - columns are the code's own
                f"WHERE project_id = {sql.param(project_id, 'String')} AND ({found}))"
            )
        sql.where.append(f"({found})")
    status = params.get("status") if table.name == "requests" else None
    if status is not None:
        if status not in ("accepted", "rejected"):
            raise InvalidQuery("'status' of requests must be accepted or rejected.")
        sql.where.append(
            "rejection_cause = ''" if status == "accepted" else "rejection_cause != ''"
        )
    return sql


# Newest-first pages are read from a recent window first: ClickHouse reads the sort
# order backwards but, with a filter on other columns, still reads the whole project,
# while a window on created_at, the key's second column, reads only its part of the
# table, many times faster on a large one.  The window widens until it holds
# a page; the last try has none.
WINDOWS_SECONDS = (3600, 86400, 7 * 86400)


# Filters that name rows by id: few rows, found through the tables' bloom filters
# (migration 0006); a window would only add queries.
POINTED = ("id", "event_id", "request_id")


def oldest(table: Table, project_id: str) -> tuple[str, dict[str, Any]]:
    """The project's oldest row time: the first row in key order, read without a scan
    (``min()`` reads the whole project's column)."""
    text = (
        f"SELECT created_at AS oldest FROM {table.name} "  # noqa: S608
        "WHERE project_id = {p:String} ORDER BY created_at LIMIT 1"
    )
    return text, {"p": project_id}


def windows(query: ListQuery, now_ms: int, oldest_ms: int) -> list[str | None]:
    """The lower bounds on ``created_at`` to try in turn for ``query``'s page; none that
    reaches back to the project's oldest row (``oldest_ms``, 0 when it has none): that
    is the last try."""
    if not query.descending or query.prev is not None or oldest_ms <= 0:
        return [None]
    anchor = now_ms
    if query.next is not None:
        anchor = int(parse_time("next", query.next[0]).timestamp() * 1000)
    starts = [anchor - seconds * 1000 for seconds in WINDOWS_SECONDS]
    return [*(iso_ms(start) for start in starts if start > oldest_ms), None]


def seekable(query: ListQuery) -> ListQuery:
    """``query`` with its cursor's time checked and written as the API writes times: a
    cursor is only base64 JSON, and a forged one must be refused here (422), not by
    ClickHouse parsing its time (which would answer 503)."""

    def checked(name: str, cursor: SortKey | None) -> SortKey | None:
        if cursor is None:
            return None
        try:
            moment = parse_time(name, cursor[0])
        except InvalidQuery as exc:
            raise InvalidQuery(f"'{name}' is not a cursor this API gave out.") from exc
        return iso_ms(int(moment.timestamp() * 1000)), cursor[1]

    return replace(query, next=checked("next", query.next), prev=checked("prev", query.prev))


def select(
    table: Table, sql: Sql, query: ListQuery, since: str | None = None
) -> tuple[str, dict[str, Any]]:
    """One page of rows, plus one more to tell whether another page follows; ``since``,
    a window from :func:`windows`.  A ``prev`` page is read backwards from its cursor;
    :func:`pages.seek_page` turns it round."""
    cursor: SortKey | None = query.next or query.prev
    descending = query.descending if query.prev is None else not query.descending
    where = Sql(list(sql.where), dict(sql.parameters))
    if since is not None:
        where.where.append(f"created_at >= {where.at(since)}")
    if cursor is not None:
        sign = "<" if descending else ">"
        where.where.append(
            f"(created_at, id) {sign} ({where.at(cursor[0])}, {where.param(cursor[1], 'String')})"
        )
    direction = "DESC" if descending else "ASC"
    text = (
        f"SELECT * FROM {table.name} FINAL WHERE {' AND '.join(where.where)} "  # noqa: S608
        f"ORDER BY created_at {direction}, id {direction} LIMIT {query.limit + 1}"
    )
    return text, where.parameters


def row_key(row: dict[str, Any]) -> SortKey:
    """A row's place in the seek order, ``(created_at, id)``, as a cursor holds it."""
    return shapes.iso(row["created_at"]) or "", str(row["id"])
