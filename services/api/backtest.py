"""``POST /connections/backtest``: what rules not yet saved would have done to a source's
stored requests (``common/domain/backtest.py`` decides; this reads and runs).

Three reads of ``requests``, the caller's project in every ``WHERE``:

1. one pass over the whole range inside ClickHouse, grouped by the verdict of the
   leading filters (``filter_sql.py``): how many passed, were filtered, or are
   undecided, with a few ids of each;
2. the undecided ones (at most :data:`UNDECIDED_MAX`), decided here by the router's
   own filter code;
3. when rules follow (a transformation, later filters, deduplication): the oldest
   ``sample_size`` requests that passed, run through them with the router's
   ``route`` and the API's V8 runtime, :data:`SLICE_SECONDS` at a time so that other
   work on that runtime (other projects' backtests, retries) takes turns with it, and
   for :data:`TRANSFORM_SECONDS` at most (one call more when a transformation runs to
   its own CPU limit, ``HOOKHOUSE_TRANSFORMATION_CPU_SECONDS``).

A project runs one backtest at a time; ClickHouse stops a pass after
:data:`QUERY_SECONDS`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hookhouse.api import filter_sql
from hookhouse.api.fields import ApiError
from hookhouse.api.javascript import JavaScript
from hookhouse.api.replay import inbound
from hookhouse.api.store import Row, Store
from hookhouse.common.clock import now_ms
from hookhouse.common.domain.backtest import Deduplication, Tally, leading_filters
from hookhouse.common.domain.message import Message, Transformed
from hookhouse.common.domain.routing import as_received, passes, route
from hookhouse.common.domain.times import iso_ms

UNDECIDED_MAX = 10_000
SLICE_SECONDS = 0.2
TRANSFORM_SECONDS = 10.0
QUERY_SECONDS = 30
# Requests a connection would have seen: accepted ones, and those that found none.
ROUTABLE = "rejection_cause IN ('', 'NO_CONNECTION')"
COLUMNS = "id, project_id, source_id, created_at, method, path, query, headers, body, verified"


@dataclass(frozen=True)
class Backtest:
    """What to try: ``rules`` as checked (inline transformations by their
    ``inline`` id: ``code`` and ``env``), over ``source_id``'s requests in a range."""

    project_id: str
    source_id: str
    rules: list[dict[str, Any]]
    inline: dict[str, tuple[str, dict[str, str]]]
    since: datetime
    until: datetime
    sample_size: int


class Backtests:
    def __init__(self, store: Store, javascript: JavaScript, saved: Callable[[str], Any]) -> None:
        self.store = store
        self.javascript = javascript
        self.saved = saved  # a transformation by id (the caller checked it is the project's)
        self.running: set[str] = set()  # projects

    async def run(self, test: Backtest) -> dict[str, Any]:
        if test.project_id in self.running:
            raise ApiError(
                429,
                "BACKTEST_RUNNING",
                "A backtest of this project is already running; retry when it has answered.",
            )
        self.running.add(test.project_id)
        try:
            return await self._run(test)
        finally:
            self.running.discard(test.project_id)

    async def _run(self, test: Backtest) -> dict[str, Any]:
        ahead, rest = leading_filters(test.rules)
        compiled = filter_sql.Compiled()
        verdict = filter_sql.least([filter_sql.rule_verdict(rule, compiled) for rule in ahead])
        scope = self.scope(test, compiled.parameters)
        withs = f"{filter_sql.BYTES}, {verdict} AS verdict"
        groups = await self.read(
            f"WITH {withs} SELECT verdict, count() AS n, groupArray(5)(id) AS ids "  # noqa: S608
            f"FROM requests FINAL WHERE {scope} GROUP BY verdict",
            compiled.parameters,
        )
        by = {int(g["verdict"]): g for g in groups}
        tally = Tally()
        total = sum(int(g["n"]) for g in groups)
        passed = [str(i) for i in by.get(filter_sql.YES, {}).get("ids", [])]
        passed_count = int(by.get(filter_sql.YES, {}).get("n", 0))
        filtered = by.get(filter_sql.NO)
        if filtered:
            tally.add("filtered", [str(i) for i in filtered["ids"]], int(filtered["n"]))
        filtered_ahead = tally.counts["filtered"]
        undecided = int(by.get(filter_sql.UNDECIDED, {}).get("n", 0))
        decided_here = 0
        if undecided:
            rows = await self.read(
                f"WITH {withs} SELECT {COLUMNS} FROM requests FINAL "  # noqa: S608
                f"WHERE {scope} AND verdict = {filter_sql.UNDECIDED} "
                f"ORDER BY created_at, id LIMIT {UNDECIDED_MAX}",
                compiled.parameters,
            )
            kept, dropped = await asyncio.to_thread(_decide, ahead, rows)
            decided_here = len(rows)
            undecided -= len(rows)
            passed_count += len(kept)
            passed += kept
            tally.add("filtered", dropped)
            filtered_ahead += len(dropped)
        sampled = 0
        if rest:
            sampled = await self.sample(test, rest, ahead, withs, scope, compiled, tally)
        else:
            tally.add("events", passed, passed_count)
        evaluated = filtered_ahead + (sampled if rest else passed_count)
        return {
            "source_id": test.source_id,
            "since": iso_ms(int(test.since.timestamp() * 1000)),
            "until": iso_ms(int(test.until.timestamp() * 1000)),
            "requests_count": total,
            "evaluated_count": evaluated,
            "complete": evaluated == total,
            **{f"{outcome}_count": n for outcome, n in tally.counts.items()},
            "filters": {
                "rules": len(ahead),
                "passed_count": passed_count,
                "filtered_count": filtered_ahead,
                "decided_in_python_count": decided_here,
                "undecided_count": undecided,
            },
            "sample": {"rules": len(rest), "size": sampled, "of": passed_count} if rest else None,
            "samples": tally.samples,
            "errors": tally.errors,
        }

    def scope(self, test: Backtest, parameters: dict[str, Any]) -> str:
        """The ``WHERE`` of the source's routable requests in the range (parameters
        added to ``parameters``)."""
        parameters |= {
            "bt_project": test.project_id,
            "bt_source": test.source_id,
            "bt_since": test.since.isoformat(),
            "bt_until": test.until.isoformat(),
        }
        return (
            "project_id = {bt_project:String} AND source_id = {bt_source:String} "
            "AND created_at >= parseDateTime64BestEffort({bt_since:String}, 3, 'UTC') "
            "AND created_at <= parseDateTime64BestEffort({bt_until:String}, 3, 'UTC') "
            f"AND {ROUTABLE}"
        )

    async def read(self, sql: str, parameters: dict[str, Any]) -> list[Row]:
        sql += f" SETTINGS max_execution_time = {QUERY_SECONDS}"
        return await asyncio.to_thread(self.store.run, sql, parameters)

    async def sample(
        self,
        test: Backtest,
        rest: list[dict[str, Any]],
        ahead: list[dict[str, Any]],
        withs: str,
        scope: str,
        compiled: filter_sql.Compiled,
        tally: Tally,
    ) -> int:
        """The oldest requests that passed the leading filters, through the rest of the
        rules; how many were run (fewer than asked when the time ran out)."""
        rows = await self.read(
            f"WITH {withs} SELECT {COLUMNS}, verdict FROM requests FINAL "  # noqa: S608
            f"WHERE {scope} AND verdict != {filter_sql.NO} "
            f"ORDER BY created_at, id LIMIT {test.sample_size + UNDECIDED_MAX}",
            compiled.parameters,
        )
        chosen = [
            row
            for row in rows
            if row["verdict"] == filter_sql.YES
            or all(passes(rule, as_received(inbound(row))) for rule in ahead)
        ][: test.sample_size]
        connection = {"id": "web_backtest", "destination_id": "", "rules": rest}
        memory = Deduplication()
        transform = self.transform(test)
        deadline = time.monotonic() + TRANSFORM_SECONDS
        done = 0

        def work() -> int:
            """Requests from ``done`` on, for one slice of the runtime's time."""
            ran, until = 0, min(deadline, time.monotonic() + SLICE_SECONDS)
            for row in chosen[done:]:
                request = inbound(row)
                moment = int(row["created_at"].timestamp() * 1000)
                routed = route(request, [connection], transform, memory.at(moment), now_ms=now_ms())
                tally.routed(request.id, routed)
                ran += 1
                if time.monotonic() >= until:
                    break
            return ran

        while done < len(chosen) and time.monotonic() < deadline:
            done += await self.javascript.off_loop(work)
        return done

    def transform(self, test: Backtest) -> Callable[[dict[str, Any], Message], Transformed]:
        """A rule's transformation: inline code given with the backtest, or saved."""

        def transform(rule: dict[str, Any], message: Message) -> Transformed:
            wanted = str(rule.get("transformation_id"))
            if wanted in test.inline:
                code, env = test.inline[wanted]
            else:
                saved = self.saved(wanted)
                if saved is None:
                    return Transformed(None, f"transformation {wanted!r} does not exist")
                code, env = saved["code"], saved.get("env") or {}
            return self.javascript.transform(test.project_id, code, env, message)

        return transform


def _decide(ahead: list[dict[str, Any]], rows: list[Row]) -> tuple[list[str], list[str]]:
    """Ids of ``rows`` that pass every leading filter, and of those that do not."""
    kept: list[str] = []
    dropped: list[str] = []
    for row in rows:
        message = as_received(inbound(row))
        (kept if all(passes(rule, message) for rule in ahead) else dropped).append(row["id"])
    return kept, dropped


DEFAULT_RANGE = timedelta(days=7)
