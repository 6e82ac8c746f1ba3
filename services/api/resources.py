"""The management API's resources over the config log: sources, destinations,
connections and transformations, each a :class:`Kind` (``kinds.py``) served with
Hookdeck's verbs (2024-03-01) by ``handlers/resources.py``.

Every write goes through :meth:`ConfigLog.put`: this replica answers only after it has
read its own write back, and a name another replica took first is refused here as on
every replica (``config.py``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from confluent_kafka import KafkaException
from starlette.datastructures import QueryParams

from hookhouse.api import pages
from hookhouse.api.fields import ApiError
from hookhouse.common.clock import now_ms
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.domain.config import new_resource
from hookhouse.common.domain.times import iso_ms

log = logging.getLogger(__name__)

Shape = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class Staged:
    """Resources a body creates inline (a connection's new source, destination or
    transformation): checked with the rest of the body, written only once all of it is
    valid, just before the resource itself, and deleted again if a later write fails, so
    that a refused body leaves nothing behind."""

    resources: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def named(self, kind: str, name: Any) -> dict[str, Any] | None:
        return next((r for k, r in self.resources if k == kind and r.get("name") == name), None)

    def has(self, kind: str, resource_id: str) -> bool:
        return any(k == kind and r["id"] == resource_id for k, r in self.resources)


# Checked stored fields from a request body; ``existing`` is the stored resource when
# the body updates one (its fields fill what the body leaves out); what the body
# creates inline goes to ``staged``.
Fields = Callable[[str, dict[str, Any], dict[str, Any] | None, Staged], Awaitable[dict[str, Any]]]

T = TypeVar("T")
STORED_ONLY = ("id", "project_id", "created_at", "updated_at")


@dataclass(frozen=True)
class Kind:
    name: str  # the config kind: "source"
    path: str  # "sources"
    prefix: str  # of ids: "src"
    fields: Fields
    shape: Shape
    filters: tuple[str, ...] = ()  # list parameters matched against stored fields
    toggles: tuple[str, ...] = ("disabled_at",)
    users: Callable[[dict[str, Any]], list[str]] = field(default=lambda _: [])


def settable(resource: dict[str, Any] | None) -> dict[str, Any]:
    """A stored resource's own fields, as a request body would give them."""
    return {k: v for k, v in (resource or {}).items() if k not in STORED_ONLY}


class Resources:
    def __init__(self, config: ConfigLog) -> None:
        self.config = config
        self.state = config.state

    # -- writes -----------------------------------------------------------------------

    async def put(
        self,
        kind: str,
        resource: dict[str, Any] | None,
        key: str = "",
        taken: ApiError | None = None,
    ) -> None:
        """Write ``resource`` (``None`` deletes the one of id ``key``) to the config log;
        ``taken`` is the answer when another resource took its name (or host) first."""
        resource_id = resource["id"] if resource is not None else key
        try:
            written = await asyncio.to_thread(self.config.put, kind, resource_id, resource)
        except (KafkaException, TimeoutError) as exc:
            log.warning("the config write of %s %s failed: %s", kind, resource_id, exc)
            raise ApiError(
                503, "KAFKA_UNAVAILABLE", "The change was not written; retry shortly."
            ) from exc
        if not written:
            raise taken or self.name_taken(kind, str(resource and resource.get("name")))

    @staticmethod
    def name_taken(kind: str, name: str) -> ApiError:
        return ApiError(422, "NAME_TAKEN", f"A {kind} named '{name}' already exists.")

    def check_free(self, kind: str, project_id: str, fields: dict[str, Any], own: str) -> None:
        if fields.get("name") is None:  # an unnamed issue trigger
            return
        taken = self.state.find(kind, project_id, fields["name"], fields.get("source_id", ""))
        if taken is not None and taken["id"] != own:
            raise self.name_taken(kind, fields["name"])

    async def create(
        self,
        kind: str,
        prefix: str,
        project_id: str,
        fields: dict[str, Any],
        staged: Staged | None = None,
    ) -> dict[str, Any]:
        self.check_free(kind, project_id, fields, "")
        resource = new_resource(prefix, project_id, fields, now_ms())
        await self.put_with(staged, kind, resource)
        return resource

    async def update(
        self,
        kind: str,
        resource: dict[str, Any],
        changes: dict[str, Any],
        staged: Staged | None = None,
    ) -> dict[str, Any]:
        changed = {**resource, **changes, "updated_at": iso_ms(now_ms())}
        if "name" in changed:
            self.check_free(kind, resource["project_id"], changed, resource["id"])
        await self.put_with(staged, kind, changed)
        return changed

    async def put_with(self, staged: Staged | None, kind: str, resource: dict[str, Any]) -> None:
        """Write the staged resources, then ``resource``; if a write fails, delete the
        staged ones already written (the config log has no transactions)."""
        written: list[tuple[str, dict[str, Any]]] = []
        try:
            for staged_kind, made in staged.resources if staged else []:
                await self.put(staged_kind, made)
                written.append((staged_kind, made))
            await self.put(kind, resource)
        except BaseException:
            for staged_kind, made in reversed(written):
                try:
                    await asyncio.to_thread(self.config.put, staged_kind, made["id"], None)
                except Exception:  # the first failure is the one to answer
                    log.exception("could not undo the inline %s %s", staged_kind, made["id"])
            raise

    def owned(self, kind: str, project_id: str, resource_id: str) -> dict[str, Any]:
        """The project's resource, or 404: another project's ids do not exist for it."""
        resource = self.state.get(kind, resource_id)
        if resource is None or resource.get("project_id") != project_id:
            raise ApiError(404, "NOT_FOUND", f"No {kind} with id {resource_id}.")
        return resource

    # -- reads ------------------------------------------------------------------------

    def matching(self, kind: Kind, project_id: str, params: QueryParams) -> list[dict[str, Any]]:
        """The project's resources of ``kind`` passing the list filters in ``params``."""
        rows = self.state.list(kind.name, project_id)
        ids = params.getlist("id")
        if ids:
            rows = [r for r in rows if r["id"] in ids]
        if params.get("name"):
            rows = [r for r in rows if r.get("name") == params["name"]]
        for toggle in kind.toggles:
            flag = pages.boolean(params, toggle.removesuffix("_at"))
            if flag is not None:
                rows = [r for r in rows if bool(r.get(toggle)) == flag]
        for bound in pages.time_bounds(params, ("created_at", "updated_at")):
            rows = [r for r in rows if bound.admits(r.get(bound.field))]
        for name in kind.filters:
            wanted = params.getlist(name)
            if wanted:
                rows = [r for r in rows if r.get(name) in wanted]
        return rows

    async def found_or_staged(
        self, kind: Kind, project_id: str, given: Any, what: str, staged: Staged
    ) -> dict[str, Any]:
        """An inline ``what`` object of a connection: the one of that name, or a new one,
        staged (written with the connection, see :class:`Staged`)."""
        if not isinstance(given, dict):
            raise ApiError(422, "UNPROCESSABLE_ENTITY", f"Give '{what}_id' or a '{what}' object.")
        existing = self.state.find(kind.name, project_id, str(given.get("name")))
        existing = existing or staged.named(kind.name, given.get("name"))
        if existing is not None:
            return existing
        fields = await kind.fields(project_id, given, None, staged)
        self.check_free(kind.name, project_id, fields, "")
        resource = new_resource(kind.prefix, project_id, fields, now_ms())
        staged.resources.append((kind.name, resource))
        return resource


def invalid_as_422(step: Callable[[], T]) -> T:
    try:
        return step()
    except pages.InvalidQuery as exc:
        raise ApiError(422, "UNPROCESSABLE_ENTITY", str(exc)) from exc
