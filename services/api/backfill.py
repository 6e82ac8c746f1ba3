"""Backfills: a connection receives its source's stored requests since a time.

A backfill is a bulk job (``bulk.py``: kind ``bulk_retry``, type ``backfill``), so it
has the bulk retries' plan, progress, cancel, and resumption after an API restart.
Its batch (:meth:`Backfills.step`) reads the next requests of the connection's source
in the window, oldest first, in the caller's project; skips those that an earlier
backfill of the connection went through (its covered range, recorded in the job in the
configuration log with each batch: it does not wait for ClickHouse) and those that
have an event or an ignored event on the connection in ClickHouse (routed live, or
retried by hand; both tables are looked up by request id, the project in every
``WHERE``); and routes the rest through that connection only, as the router's first
pass would have (``common/domain/backfill.py`` and ``replay.py``): its rules, the ids
of that pass (so a batch routed twice after a crash makes the same events, with the
same ``Idempotency-Key``), trigger ``BACKFILL``.  Batches are paced to the
destination's rate limit (``backfill.per_second``).

The window ends when the connection was created: from then on the router routed the
source's requests to it live.  Only one backfill of a connection runs at a time.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from hookhouse.api import bulk, queries, shapes
from hookhouse.api.bulk import KIND, BulkRetries, Params
from hookhouse.api.fields import ApiError
from hookhouse.api.pages import ListQuery
from hookhouse.api.replay import Replays
from hookhouse.api.store import Row, Store
from hookhouse.common.clock import now_ms
from hookhouse.common.domain import backfill
from hookhouse.common.domain.backfill import Covered, InvalidWindow, SeekKey, Window
from hookhouse.common.domain.dedup import DedupMemory
from hookhouse.common.domain.routing import Routed
from hookhouse.common.domain.times import iso_ms, parse_iso
from hookhouse.common.settings import Settings

log = logging.getLogger(__name__)

TYPE = "backfill"
TRIGGER = "BACKFILL"
# Requests a backfill routes: those the router saw (accepted, with or without a
# connection then), not those ingest refused (recorded without their body).
ROUTED_CAUSES = ("", "NO_CONNECTION")
WAIT_SLICE_SECONDS = 1.0  # a paced job looks at its state (a cancel) this often


def window_of(since: Any, until: Any) -> Window:
    """The window asked for, or a 422 naming the field."""
    try:
        return backfill.window(since, until, now_ms())
    except InvalidWindow as exc:
        raise ApiError(422, "UNPROCESSABLE_ENTITY", str(exc)) from exc


def created_ms(resource: dict[str, Any]) -> int:
    return int(parse_iso(resource["created_at"]).timestamp() * 1000)


def shape(job: dict[str, Any]) -> dict[str, Any]:
    """A backfill as the API shows it: a bulk retry's shape and what is its own."""
    done = job["completed_count"] + job["failed_count"] + job["skipped_count"]
    estimated = job["estimated_count"]
    return {
        **bulk.shape(job),
        "webhook_id": job["connection_id"],
        "since": job["since"],
        "until": job["until"],
        "stored_since": job["stored_since"],
        "per_second": job["per_second"],
        "skipped_count": job["skipped_count"],
        "stopped_reason": job.get("stopped_reason"),
        "estimated_batch": -(-estimated // backfill.batch_size(job["per_second"])),
        "progress": min(1.0, done / estimated) if estimated else 1.0,
    }


class Backfills:
    def __init__(
        self, settings: Settings, jobs: BulkRetries, store: Store, replays: Replays
    ) -> None:
        self.settings = settings
        self.jobs = jobs
        self.resources = jobs.resources
        self.state = jobs.state
        self.store = store
        self.replays = replays
        self.creating = asyncio.Lock()  # one check-then-create at a time (409 below)
        self.memories: dict[str, DedupMemory] = {}  # by job id, while it runs here
        jobs.steps[TYPE] = self.step

    # -- asking ------------------------------------------------------------------------

    def running(self, connection_id: str) -> dict[str, Any] | None:
        """The backfill of the connection in progress, if any."""
        for job in self.state.resources[KIND].values():
            if (
                bulk.type_of(job) == TYPE
                and job["connection_id"] == connection_id
                and job["in_progress"]
            ):
                return job
        return None

    def check_can_start(self, connection: dict[str, Any]) -> None:
        if connection.get("disabled_at"):
            raise ApiError(
                422,
                "CONNECTION_DISABLED",
                "This connection is disabled: enable it first (a disabled connection "
                "ignores every request).",
            )
        running = self.running(connection["id"])
        if running is not None:
            raise ApiError(
                409,
                "BACKFILL_IN_PROGRESS",
                f"Backfill {running['id']} of this connection is in progress; wait for it "
                "or cancel it first.",
            )

    def rate(self, connection: dict[str, Any]) -> float:
        destination = self.state.get("destination", connection["destination_id"]) or {}
        return backfill.per_second(
            destination.get("rate_limit"),
            destination.get("rate_limit_period"),
            self.settings.backfill_per_second,
        )

    def where(self, project_id: str, source_id: str, window: Window) -> queries.Sql:
        table = queries.TABLES["requests"]
        bounds = {"source_id": source_id, "created_at[gte]": window.since}
        sql = queries.conditions(
            table, project_id, Params({**bounds, "created_at[lte]": window.until})
        )
        sql.where.append(f"rejection_cause IN {sql.param(list(ROUTED_CAUSES), 'Array(String)')}")
        return sql

    async def count(self, project_id: str, source_id: str, window: Window) -> int:
        sql = self.where(project_id, source_id, window)
        text = f"SELECT count() AS n FROM requests FINAL WHERE {' AND '.join(sql.where)}"  # noqa: S608
        rows = await asyncio.to_thread(self.store.run, text, sql.parameters)
        return int(rows[0]["n"])

    def stored_since(self) -> str | None:
        oldest = backfill.horizon_ms(now_ms(), self.settings.clickhouse_retention_days)
        return iso_ms(oldest) if oldest is not None else None

    async def plan(self, connection: dict[str, Any], asked: Window) -> dict[str, Any]:
        covered = backfill.for_connection(asked, created_ms(connection))
        estimated = await self.count(connection["project_id"], connection["source_id"], covered)
        rate = self.rate(connection)
        return {
            "webhook_id": connection["id"],
            "since": covered.since,
            "until": covered.until,
            "stored_since": self.stored_since(),
            "per_second": rate,
            "estimated_batch": -(-estimated // backfill.batch_size(rate)),
            "estimated_count": estimated,
            "estimated_seconds": round(estimated / rate, 1),
            "progress": 0,
        }

    async def create(self, connection: dict[str, Any], asked: Window) -> dict[str, Any]:
        async with self.creating:
            self.check_can_start(connection)
            covered = backfill.for_connection(asked, created_ms(connection))
            project_id = connection["project_id"]
            estimated = await self.count(project_id, connection["source_id"], covered)
            fields = {
                "type": TYPE,
                "connection_id": connection["id"],
                "query": {"webhook_id": connection["id"], "since": covered.since},
                "since": covered.since,
                "until": covered.until,
                "stored_since": self.stored_since(),
                "per_second": self.rate(connection),
                "estimated_count": estimated,
                "processed_batch": 0,
                "completed_count": 0,
                "failed_count": 0,
                "skipped_count": 0,
                "in_progress": True,
                "cursor": None,
                "not_before_ms": 0,
                # What it went through, for later backfills (``backfill.Covered``).
                "covered_through": None,
                "failed_ids": [],
                "owner": self.jobs.replica,
            }
            job = await self.resources.create(KIND, "bch", project_id, fields)
        self.jobs.start(job["id"])
        return job

    # -- doing -------------------------------------------------------------------------

    async def step(self, job: dict[str, Any]) -> bool:
        """One batch, or a slice of the wait before it; False when the backfill is over."""
        connection = self.state.get("connection", job["connection_id"])
        if connection is None or connection.get("project_id") != job["project_id"]:
            return await self.stop(job, "CONNECTION_DELETED")
        if connection.get("disabled_at"):  # its requests would all be ignored: DISABLED
            return await self.stop(job, "CONNECTION_DISABLED")
        wait_ms = int(job.get("not_before_ms") or 0) - now_ms()
        if wait_ms > 0:
            await asyncio.sleep(min(wait_ms / 1000, WAIT_SLICE_SECONDS))
            return True
        started, rate = now_ms(), self.rate(connection)
        size = backfill.batch_size(rate)
        window = Window(
            backfill.parse_time("since", job["since"]), backfill.parse_time("until", job["until"])
        )
        sql = self.where(job["project_id"], connection["source_id"], window)
        cursor = (str(job["cursor"][0]), str(job["cursor"][1])) if job.get("cursor") else None
        text, parameters = queries.select(
            queries.TABLES["requests"], sql, ListQuery("created_at", False, size, cursor, None)
        )
        rows = await asyncio.to_thread(self.store.run, text, parameters)
        batch = rows[:size]
        skipped = await self.gone_through(job, batch)
        todo = [row for row in batch if row["id"] not in skipped]
        outcomes = await self.route(job, connection, todo)
        failed = [
            row["id"] for row, o in zip(todo, outcomes, strict=True) if not isinstance(o, Routed)
        ]
        for problem in [o for o in outcomes if not isinstance(o, Routed)][:1]:
            log.warning("backfill %s: a request was not routed: %s", job["id"], problem)
        # Held deliveries (a paused connection's) count: they leave at once on unpause.
        delivered = sum(len(o.deliveries) + len(o.held) for o in outcomes if isinstance(o, Routed))
        finished = len(rows) <= size

        def progress(latest: dict[str, Any]) -> dict[str, Any]:  # a cancel may have come
            changes: dict[str, Any] = {
                "processed_batch": latest["processed_batch"] + 1,
                "completed_count": latest["completed_count"] + len(todo) - len(failed),
                "failed_count": latest["failed_count"] + len(failed),
                "skipped_count": latest["skipped_count"] + len(batch) - len(todo),
                "cursor": list(self.jobs.row_key(batch[-1])) if batch else latest.get("cursor"),
                "not_before_ms": backfill.next_batch_at(started, delivered, rate),
            }
            if "covered_through" in latest:  # not in jobs written before it was recorded
                through, failed_ids = backfill.covered_after(
                    through_of(latest),
                    latest["failed_ids"],
                    seek_key(batch[-1]) if batch else None,
                    failed,
                )
                changes |= {
                    "covered_through": [iso_ms(through[0]), through[1]] if through else None,
                    "failed_ids": failed_ids,
                }
            if finished and latest["in_progress"]:
                changes |= {"in_progress": False, "completed_at": iso_ms(now_ms())}
            return changes

        written = await self.jobs.rewrite(job, progress)
        if finished or not written["in_progress"]:
            self.memories.pop(job["id"], None)
        return not finished and bool(written["in_progress"])

    def covered(self, job: dict[str, Any]) -> list[Covered]:
        """The ranges the backfills of the job's connection went through, as the
        configuration log has them now.  The job's own is among them: it ends at the
        job's cursor, and the job reads after it."""
        ranges = []
        for other in self.state.resources[KIND].values():
            through = through_of(other)
            if (
                bulk.type_of(other) == TYPE
                and other.get("connection_id") == job["connection_id"]
                and other.get("project_id") == job["project_id"]
                and through is not None
            ):
                since_ms = backfill.parse_time("since", other["since"])
                ranges.append(Covered(since_ms, through, frozenset(other["failed_ids"])))
        return ranges

    async def gone_through(self, job: dict[str, Any], batch: list[Row]) -> set[str]:
        """The ids of the requests of ``batch`` not to route again: those inside the
        range an earlier backfill of the connection covered, and those that have an
        event or an ignored event on the connection in ClickHouse."""
        ranges = self.covered(job)
        found = {row["id"] for row in batch if backfill.covered(seek_key(row), ranges)}
        rest = [row["id"] for row in batch if row["id"] not in found]
        if not rest:
            return found
        text = " UNION ALL ".join(
            f"SELECT DISTINCT request_id FROM {table} "  # noqa: S608 - the code's own tables
            "WHERE project_id = {project:String} AND connection_id = {connection:String} "
            "AND request_id IN {ids:Array(String)}"
            for table in ("events", "ignored_events")
        )
        parameters = {"project": job["project_id"], "connection": job["connection_id"], "ids": rest}
        rows = await asyncio.to_thread(self.store.run, text, parameters)
        return found | {str(row["request_id"]) for row in rows}.intersection(rest)

    async def route(
        self, job: dict[str, Any], connection: dict[str, Any], rows: list[Row]
    ) -> list[Routed | BaseException]:
        """Route ``rows`` through the connection.  They reach the routing thread in
        this order (each coroutine runs up to its hand-over there when gathered), so
        the deduplication sees them oldest first."""
        memory = self.memories.setdefault(job["id"], DedupMemory())
        return await asyncio.gather(
            *(
                self.replays.replay(
                    row,
                    [connection["id"]],
                    TRIGGER,
                    seen_before=memory.at(received_ms(row)),
                )
                for row in rows
            ),
            return_exceptions=True,
        )

    async def stop(self, job: dict[str, Any], reason: str) -> bool:
        log.warning("backfill %s stopped: %s", job["id"], reason)
        await self.jobs.rewrite(
            job,
            lambda _: {
                "in_progress": False,
                "cancelled_at": iso_ms(now_ms()),
                "stopped_reason": reason,
            },
        )
        self.memories.pop(job["id"], None)
        return False


def seek_key(row: Row) -> SeekKey:
    """A ``requests`` row's place in the order a backfill reads in."""
    return received_ms(row), str(row["id"])


def through_of(job: dict[str, Any]) -> SeekKey | None:
    """The end of a job's covered range; ``None`` before its first batch, and for jobs
    written before it was recorded (those rely on ClickHouse)."""
    through = job.get("covered_through")
    if not through:
        return None
    return backfill.parse_time("covered_through", through[0]), str(through[1])


def received_ms(row: Row) -> int:
    """When a ``requests`` row was received, in epoch ms (ClickHouse gives UTC)."""
    return shapes.epoch_ms(row["created_at"])
