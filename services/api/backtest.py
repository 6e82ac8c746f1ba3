"""``POST /connections/backtest``: what rules not yet saved would have done to a source's
stored requests (``common/domain/backtest.py`` decides; this reads and runs).

Reads of ``requests``, the caller's project in every ``WHERE``:

1. one pass over the whole range inside ClickHouse, grouped by the verdict of the
   leading filters (``filter_sql.py``): how many passed, were filtered, or are
   undecided, with a few ids of each.  A filter ClickHouse cannot take (its lambdas
   nest too deep, its literals are too many) leaves every request undecided;
2. the undecided ones (at most :data:`UNDECIDED_MAX`), decided here by the router's
   own filter code;
3. when rules follow (a transformation, later filters, deduplication): the oldest
   ``sample_size`` requests that passed, run through them with the router's
   ``route`` and the API's V8 runtime, :data:`SLICE_SECONDS` at a time so that other
   work on that runtime (other projects' backtests, retries) takes turns with it, and
   for :data:`TRANSFORM_SECONDS` at most (one call more when a transformation runs to
   its own CPU limit, ``HOOKHOUSE_TRANSFORMATION_CPU_SECONDS``).

Steps 2 and 3 first read ids and sizes only, then the bodies they need, a few MiB at a
time and :data:`BODY_BYTES` in all, within :data:`PYTHON_SECONDS`; what is left is
counted as undecided or not sampled.  A project runs one backtest at a time; ClickHouse
stops a pass after :data:`QUERY_SECONDS`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from hookhouse.api import filter_sql, shapes
from hookhouse.api.fields import ApiError
from hookhouse.api.javascript import JavaScript
from hookhouse.api.replay import inbound
from hookhouse.api.store import Row, Store
from hookhouse.common.clock import now_ms
from hookhouse.common.domain.backtest import Tally, leading_filters
from hookhouse.common.domain.config import ConfigState
from hookhouse.common.domain.dedup import DedupMemory
from hookhouse.common.domain.message import Message, Transformed
from hookhouse.common.domain.routing import as_received, passes, route, transformer
from hookhouse.common.domain.times import iso_ms

DEFAULT_RANGE = timedelta(days=7)
UNDECIDED_MAX = 10_000
SLICE_SECONDS = 0.2
TRANSFORM_SECONDS = 10.0
PYTHON_SECONDS = 10.0  # deciding undecided requests here
QUERY_SECONDS = 30
BODY_BYTES = 64 * 1024 * 1024  # of stored bodies one backtest reads, in all
CHUNK_BYTES = 4 * 1024 * 1024  # of bodies one read brings
# Requests a connection would have seen: accepted ones, and those that found none.
ROUTABLE = "rejection_cause IN ('', 'NO_CONNECTION')"
# What ClickHouse answers to a filter whose SQL it cannot take; the requests are then
# all undecided, and Python decides what it can.
TOO_COMPLEX = (
    "Maximum lambda depth",
    "TOO_DEEP",
    "TOO_BIG",
    "Too many form fields",
    "Max query size exceeded",
)


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


@dataclass
class Budget:
    """What one backtest may still read and spend in this process."""

    body_bytes: int = field(default_factory=lambda: BODY_BYTES)
    deadline: float = field(default_factory=lambda: time.monotonic() + PYTHON_SECONDS)

    def chunks(self, rows: list[Row]) -> Iterator[list[Row]]:
        """``rows`` (with their ``body_size``) in runs of at most :data:`CHUNK_BYTES`
        (one row at least), while bytes and time last."""
        chunk: list[Row] = []
        size = 0
        for row in rows:
            cost = int(row["body_size"]) * 4 // 3 + 1024  # base64, and the other columns
            if cost > self.body_bytes or time.monotonic() > self.deadline:
                break
            if chunk and size + cost > CHUNK_BYTES:
                yield chunk
                chunk, size = [], 0
            self.body_bytes -= cost
            chunk.append(row)
            size += cost
        if chunk:
            yield chunk


class Backtests:
    def __init__(self, store: Store, javascript: JavaScript, state: ConfigState) -> None:
        self.store = store
        self.javascript = javascript
        # a saved transformation's run, as the router's (the caller checked it is the
        # project's)
        self.saved = transformer(state, javascript.transform)
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
        verdict, compiled = filter_sql.verdict_of(ahead)
        parameters = compiled.parameters | self.bounds(test)
        try:
            groups = await self.groups(verdict, parameters)
        except ApiError as exc:
            if not any(text in str(exc.__cause__) for text in TOO_COMPLEX):
                raise
            verdict = str(filter_sql.UNDECIDED)
            groups = await self.groups(verdict, parameters)
        by = {int(g["verdict"]): g for g in groups}
        tally = Tally()
        total = sum(int(g["n"]) for g in groups)
        passed = [str(i) for i in by.get(filter_sql.YES, {}).get("ids", [])]
        passed_count = int(by.get(filter_sql.YES, {}).get("n", 0))
        filtered = by.get(filter_sql.NO)
        if filtered:
            tally.add("filtered", [str(i) for i in filtered["ids"]], int(filtered["n"]))
        undecided = int(by.get(filter_sql.UNDECIDED, {}).get("n", 0))
        budget = Budget()
        decided: dict[str, bool] = {}
        if undecided:
            rows = await self.listed(verdict, parameters, filter_sql.UNDECIDED, UNDECIDED_MAX)
            async for chunk in self.bodies(test, rows, budget):
                decided |= await asyncio.to_thread(_decide, ahead, chunk)
            kept = [i for i, ok in decided.items() if ok]
            dropped = [i for i, ok in decided.items() if not ok]
            undecided -= len(decided)
            passed_count += len(kept)
            passed += kept
            tally.add("filtered", dropped)
        filtered_ahead = tally.counts["filtered"]
        sampled = 0
        if rest:
            rows = await self.listed(verdict, parameters, None, test.sample_size + UNDECIDED_MAX)
            chosen = [
                row for row in rows if row["verdict"] == filter_sql.YES or decided.get(row["id"])
            ][: test.sample_size]
            sampled = await self.sample(test, rest, chosen, budget, tally)
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
                "decided_in_python_count": len(decided),
                "undecided_count": undecided,
            },
            "sample": {"rules": len(rest), "size": sampled, "of": passed_count} if rest else None,
            "samples": tally.samples,
            "errors": tally.errors,
        }

    @staticmethod
    def bounds(test: Backtest) -> dict[str, Any]:
        return {
            "bt_project": test.project_id,
            "bt_source": test.source_id,
            "bt_since": test.since.isoformat(),
            "bt_until": test.until.isoformat(),
        }

    # The source's routable requests in the range (parameters of :meth:`bounds`).
    SCOPE = (
        "project_id = {bt_project:String} AND source_id = {bt_source:String} "
        "AND created_at >= parseDateTime64BestEffort({bt_since:String}, 3, 'UTC') "
        f"AND created_at <= parseDateTime64BestEffort({{bt_until:String}}, 3, 'UTC') AND {ROUTABLE}"
    )

    async def groups(self, verdict: str, parameters: dict[str, Any]) -> list[Row]:
        return await self.read(
            f"WITH {filter_sql.BYTES}, {verdict} AS verdict "  # noqa: S608
            "SELECT verdict, count() AS n, groupArray(5)(id) AS ids "
            f"FROM requests FINAL WHERE {self.SCOPE} GROUP BY verdict",
            parameters,
        )

    async def listed(
        self, verdict: str, parameters: dict[str, Any], only: int | None, limit: int
    ) -> list[Row]:
        """Ids, sizes and verdicts, oldest first: of ``only`` that verdict, or of those
        not filtered."""
        wanted = f"verdict = {only}" if only is not None else f"verdict != {filter_sql.NO}"
        return await self.read(
            f"WITH {filter_sql.BYTES}, {verdict} AS verdict "  # noqa: S608
            "SELECT id, body_size, verdict FROM requests FINAL "
            f"WHERE {self.SCOPE} AND {wanted} ORDER BY created_at, id LIMIT {limit}",
            parameters,
        )

    async def read(self, sql: str, parameters: dict[str, Any]) -> list[Row]:
        sql += f" SETTINGS max_execution_time = {QUERY_SECONDS}"
        return await asyncio.to_thread(self.store.run, sql, parameters)

    async def bodies(
        self, test: Backtest, rows: list[Row], budget: Budget
    ) -> AsyncIterator[list[Row]]:
        """The stored requests of ``rows`` (whole), in chunks the budget allows."""
        for chunk in budget.chunks(rows):
            ids = [r["id"] for r in chunk]
            found = await self.store.rows_by_id("requests", test.project_id, ids)
            yield [found[i] for i in ids if i in found]

    async def sample(
        self,
        test: Backtest,
        rest: list[dict[str, Any]],
        chosen: list[Row],
        budget: Budget,
        tally: Tally,
    ) -> int:
        """``chosen`` through the rest of the rules; how many were run (fewer when the
        time or the bytes ran out)."""
        connection = {"id": "web_backtest", "destination_id": "", "rules": rest}
        memory = DedupMemory()
        transform = self.transform(test)
        deadline = time.monotonic() + TRANSFORM_SECONDS

        def work(rows: list[Row], start: int) -> int:
            """Requests from ``start`` on, for one slice of the runtime's time."""
            ran, until = 0, min(deadline, time.monotonic() + SLICE_SECONDS)
            for row in rows[start:]:
                request = inbound(row)
                moment = memory.at(shapes.epoch_ms(row["created_at"]))
                routed = route(request, [connection], transform, moment, now_ms=now_ms())
                tally.routed(request.id, routed)
                ran += 1
                if time.monotonic() >= until:
                    break
            return ran

        done = 0
        async for rows in self.bodies(test, chosen, budget):
            position = 0
            while position < len(rows) and time.monotonic() < deadline:
                position += await self.javascript.off_loop(partial(work, rows, position))
            done += position
            if time.monotonic() >= deadline:
                break
        return done

    def transform(self, test: Backtest) -> Callable[[dict[str, Any], Message], Transformed]:
        """A rule's transformation: inline code given with the backtest, or saved."""

        def transform(rule: dict[str, Any], message: Message) -> Transformed:
            inline = test.inline.get(str(rule.get("transformation_id")))
            if inline is None:
                return self.saved(rule, message)
            code, env = inline
            return self.javascript.transform(test.project_id, code, env, message)

        return transform


def _decide(ahead: list[dict[str, Any]], rows: list[Row]) -> dict[str, bool]:
    """Per request of ``rows``: does it pass every leading filter?"""
    return {
        row["id"]: all(passes(rule, as_received(inbound(row))) for rule in ahead) for row in rows
    }
