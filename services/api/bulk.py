"""Bulk retries: plan, create, progress, cancel — of events, requests and ignored events
(Hookdeck's ``/bulk/events/retry``, ``/bulk/requests/retry``, ``/bulk/ignored-events/retry``).

A bulk retry is a configuration resource (kind ``bulk_retry``): its type, query, counts
and cursor live in the config log, so every API replica shows the same progress and a
cancel reaches the replica doing the work.  That replica pages through the matching
rows of the caller's project, oldest first, in batches (seek cursor, the same SQL as
the lists, the project in every ``WHERE``), retries each with trigger ``BULK_RETRY`` —
an event is delivered again, a request routed again through its source's connections,
an ignored event's request routed again through that one connection — and records its
progress after each batch.  Only rows that existed when the bulk retry was created are
retried.

After an API restart a replica resumes the bulk retries still in progress: it writes
its claim, waits for the log to settle, and carries on only if its claim is the one
that stands (the last in the log), from the last recorded cursor.  Events of the batch
in flight at the restart may be requeued twice; each keeps its ``Idempotency-Key``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from hookhouse.api import pages, queries
from hookhouse.api.fields import ApiError
from hookhouse.api.resources import Resources, invalid_as_422
from hookhouse.common.clock import now_ms
from hookhouse.common.domain.times import iso_ms

log = logging.getLogger(__name__)

KIND = "bulk_retry"
BATCH = 100
OPS = tuple(pages.COMPARISONS)
SETTLE_SECONDS = 2.0
READY_SECONDS = 60.0  # for the config log to be read at start, before resuming

Run = Callable[[str, dict[str, Any]], list[dict[str, Any]]]
# (project, rows, trigger) -> per row the error that stopped its retry, or None
Requeue = Callable[[str, list[dict[str, Any]], str], Awaitable[list[BaseException | None]]]
# The types, by the name in their path (ignored-events) and in a job's "type" field.
TYPES = {"events": "events", "requests": "requests", "ignored-events": "ignored_events"}
BACKOFF_SECONDS = 5.0
RowKey = Callable[[dict[str, Any]], tuple[str, str]]
# A job type with a batch of its own (a backfill's): one batch of the job, False when
# it is over; called only while the job is in progress and this replica's.
Step = Callable[[dict[str, Any]], Awaitable[bool]]


class Params:
    """A stored query as the multi-dict ``queries.conditions`` reads."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values

    def get(self, name: str, default: Any = None) -> Any:
        value = self.values.get(name, default)
        if isinstance(value, list):
            value = value[0] if value else default
        if isinstance(value, bool):
            return str(value).lower()
        return str(value) if isinstance(value, int) else value

    def getlist(self, name: str) -> list[str]:
        value = self.values.get(name)
        if value is None:
            return []
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def allowed_filters(table: queries.Table) -> set[str]:
    """The list filters of ``table``, as a bulk retry's query may hold them."""
    names = {*table.text, *table.numbers, *table.booleans}
    names |= {f"{n}[{op}]" for n in (*table.numbers, *table.times) for op in OPS}
    if table.searchable:
        names.add("search_term")
    if table.name == "requests":
        names.add("status")
    return names


def checked_query(table: queries.Table, query: Any) -> dict[str, Any]:
    """The filters of a bulk retry; an unknown one is refused rather than ignored
    (ignoring it would retry more than asked)."""
    if query is None:
        query = {}
    if not isinstance(query, dict):
        raise ApiError(
            422, "UNPROCESSABLE_ENTITY", f"'query' must be an object of {table.name} filters."
        )
    unknown = sorted(set(query) - allowed_filters(table))
    if unknown:
        raise ApiError(
            422,
            "UNPROCESSABLE_ENTITY",
            f"'query' has filters {table.name} do not have: {', '.join(unknown)}.",
        )
    for name, value in query.items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str | int | bool) and not isinstance(v, float) for v in values):
            raise ApiError(
                422, "UNPROCESSABLE_ENTITY", f"'query.{name}' must be text, a number or a list."
            )
    return query


def type_of(job: dict[str, Any]) -> str:
    """A job's type; jobs written before requests and ignored events had none."""
    return str(job.get("type", "events"))


def shape(job: dict[str, Any]) -> dict[str, Any]:
    done = job["completed_count"] + job["failed_count"]
    estimated = job["estimated_count"]
    return {
        "id": job["id"],
        "team_id": job["project_id"],
        "type": type_of(job),
        "query": job["query"],
        "estimated_batch": -(-estimated // BATCH),
        "estimated_count": estimated,
        "processed_batch": job["processed_batch"],
        "completed_count": job["completed_count"],
        "failed_count": job["failed_count"],
        "in_progress": job["in_progress"],
        "progress": min(1.0, done / estimated) if estimated else 1.0,
        "cancelled_at": job.get("cancelled_at"),
        "completed_at": job.get("completed_at"),
        "updated_at": job["updated_at"],
        "created_at": job["created_at"],
    }


class BulkRetries:
    def __init__(
        self, resources: Resources, run: Run, requeue: Mapping[str, Requeue], row_key: RowKey
    ) -> None:
        self.resources = resources
        self.state = resources.state
        self.run = run
        self.requeue = requeue  # by type
        self.row_key = row_key
        self.steps: dict[str, Step] = {}  # by type, for types not retried by ``requeue``
        self.replica = uuid.uuid4().hex
        self.tasks: set[asyncio.Task[None]] = set()
        self.writing = asyncio.Lock()  # held by rewrite()

    @staticmethod
    def where(table: queries.Table, project_id: str, query: Mapping[str, Any]) -> queries.Sql:
        return invalid_as_422(lambda: queries.conditions(table, project_id, Params(query)))

    async def count(self, table: queries.Table, project_id: str, query: Mapping[str, Any]) -> int:
        where = self.where(table, project_id, query)
        sql = f"SELECT count() AS n FROM {table.name} FINAL WHERE {' AND '.join(where.where)}"  # noqa: S608
        rows = await asyncio.to_thread(self.run, sql, where.parameters)
        return int(rows[0]["n"])

    async def plan(self, kind: str, project_id: str, query: dict[str, Any]) -> dict[str, Any]:
        table = queries.TABLES[kind]
        estimated = await self.count(table, project_id, checked_query(table, query))
        return {
            "estimated_batch": -(-estimated // BATCH),
            "estimated_count": estimated,
            "progress": 0,
        }

    async def create(self, kind: str, project_id: str, query: Any) -> dict[str, Any]:
        table = queries.TABLES[kind]
        query = checked_query(table, query)
        stamp = iso_ms(now_ms())
        # Only what exists now: rows created later are not this bulk retry's.
        bounded = {**query, "created_at[lte]": stamp}
        fields = {
            "type": kind,
            "query": query,
            "bounded": bounded,
            "estimated_count": await self.count(table, project_id, bounded),
            "processed_batch": 0,
            "completed_count": 0,
            "failed_count": 0,
            "in_progress": True,
            "cursor": None,
            "owner": self.replica,
        }
        job = await self.resources.create(KIND, "bch", project_id, fields)
        self.start(job["id"])
        return job

    async def rewrite(
        self, job: dict[str, Any], change: Callable[[dict[str, Any]], dict[str, Any] | None]
    ) -> dict[str, Any]:
        """Write ``job`` as the state has it now, changed by ``change`` (``None``: no
        write); answer it as written, or as it is.  A job is written whole, so of a
        batch's progress and a cancel written at once only the later would stand: every
        read-change-write of a job in this process goes through here, one at a time."""
        async with self.writing:
            latest = self.state.get(KIND, job["id"]) or job
            changes = change(latest)
            if changes is None:
                return latest
            return await self.resources.update(KIND, latest, changes)

    async def cancel(self, project_id: str, job_id: str) -> dict[str, Any]:
        return await self.rewrite(
            self.resources.owned(KIND, project_id, job_id),
            lambda job: (
                {"cancelled_at": iso_ms(now_ms()), "in_progress": False}
                if job["in_progress"]
                else None
            ),
        )

    def start(self, job_id: str) -> None:
        task = asyncio.create_task(self.drive(job_id))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def resume_when_ready(self) -> None:
        """At start, once the config log is read (within ``READY_SECONDS``): :meth:`resume`."""
        if await asyncio.to_thread(self.resources.config.wait_ready, READY_SECONDS):
            await self.resume()

    async def resume(self) -> None:
        """At start: claim the bulk retries left in progress and carry on with those
        whose claim stands once the log has settled."""
        claimed = []
        # A copy: each claim is applied to the state while this loop waits for it.
        for listed in list(self.state.resources[KIND].values()):
            job = await self.rewrite(
                listed, lambda job: {"owner": self.replica} if job["in_progress"] else None
            )
            if job["in_progress"]:
                claimed.append(job["id"])
        if not claimed:
            return
        await asyncio.sleep(SETTLE_SECONDS)
        await asyncio.to_thread(self.resources.config.catch_up, 10.0)
        for job_id in claimed:
            now = self.state.get(KIND, job_id)
            if now is not None and now["in_progress"] and now.get("owner") == self.replica:
                self.start(job_id)

    async def drive(self, job_id: str) -> None:
        """Batch after batch; while ClickHouse is away (503), the same batch again after
        a pause."""
        while True:
            try:
                if not await self.step(job_id):
                    return
            except ApiError as exc:
                if exc.status != 503:
                    log.error("bulk retry %s stopped: %s", job_id, exc.message)
                    return
                log.warning("bulk retry %s waits: %s", job_id, exc.message)
                await asyncio.sleep(BACKOFF_SECONDS)
            except Exception:  # a task's failure must be seen, not lost with the task
                log.exception("bulk retry %s stopped", job_id)
                return

    async def step(self, job_id: str) -> bool:
        """One batch; False when the bulk retry is over (done, cancelled, or taken over)."""
        job = self.state.get(KIND, job_id)
        if job is None or not job["in_progress"] or job.get("owner") != self.replica:
            return False
        kind = type_of(job)
        if kind in self.steps:
            return await self.steps[kind](job)
        table = queries.TABLES[kind]
        cursor = (str(job["cursor"][0]), str(job["cursor"][1])) if job.get("cursor") else None
        query = pages.ListQuery("created_at", False, BATCH, cursor, None)
        where = self.where(table, job["project_id"], job["bounded"])
        rows = await asyncio.to_thread(self.run, *queries.select(table, where, query))
        batch = rows[:BATCH]
        retry = self.requeue[kind]
        outcomes = await retry(job["project_id"], batch, "BULK_RETRY") if batch else []
        failed = sum(1 for outcome in outcomes if outcome is not None)
        finished = len(rows) <= BATCH

        def progress(latest: dict[str, Any]) -> dict[str, Any]:  # a cancel may have come
            changes: dict[str, Any] = {
                "processed_batch": latest["processed_batch"] + 1,
                "completed_count": latest["completed_count"] + len(batch) - failed,
                "failed_count": latest["failed_count"] + failed,
                "cursor": list(self.row_key(batch[-1])) if batch else latest.get("cursor"),
            }
            if finished and latest["in_progress"]:
                changes |= {"in_progress": False, "completed_at": iso_ms(now_ms())}
            return changes

        written = await self.rewrite(job, progress)
        return not finished and bool(written["in_progress"])
