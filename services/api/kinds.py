"""The configuration resources the management API serves, as :class:`Kind`\\ s: how
each request body becomes stored fields, how each is shown, what blocks a delete.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from hookhouse.api import shapes
from hookhouse.api.fields import ApiError, checked
from hookhouse.api.models.bookmarks import BookmarkInput
from hookhouse.api.models.connections import ConnectionInput
from hookhouse.api.models.destinations import DestinationInput
from hookhouse.api.models.issue_triggers import IssueTriggerInput
from hookhouse.api.models.sources import SourceInput
from hookhouse.api.models.transformations import TransformationInput
from hookhouse.api.resources import Kind, Resources, Staged, settable

# Runs transformation code once in its project's context (project id, code, env);
# refuses (ApiError) code that does not even load.
Probe = Callable[[str, str, dict[str, str]], Awaitable[None]]
# Is there a stored request of this id in this project? (project id, request id)
RequestExists = Callable[[str, str], Awaitable[bool]]


def catalog(
    resources: Resources, ingest_url: str, probe: Probe, request_exists: RequestExists
) -> dict[str, Kind]:
    state = resources.state

    async def source(
        _: str, data: dict[str, Any], existing: dict[str, Any] | None, __: Staged
    ) -> Any:
        return checked(SourceInput, {**settable(existing), **data}).fields()

    async def destination(
        _: str, data: dict[str, Any], existing: dict[str, Any] | None, __: Staged
    ) -> Any:
        return checked(DestinationInput, {**settable(existing), **data}).fields()

    async def transformation(
        project_id: str, data: dict[str, Any], existing: dict[str, Any] | None, _: Staged
    ) -> dict[str, Any]:
        fields = checked(TransformationInput, {**settable(existing), **data}).fields()
        await probe(project_id, fields["code"], fields["env"])
        return fields

    def connections_where(test: Callable[[dict[str, Any]], bool]) -> list[str]:
        return sorted(c["id"] for c in state.resources["connection"].values() if test(c))

    sources = Kind(
        "source",
        "sources",
        "src",
        source,
        lambda r: shapes.source(r, state, ingest_url),
        users=lambda r: connections_where(lambda c: c["source_id"] == r["id"]),
    )
    destinations = Kind(
        "destination",
        "destinations",
        "des",
        destination,
        shapes.destination,
        users=lambda r: connections_where(lambda c: c["destination_id"] == r["id"]),
    )
    transformations = Kind(
        "transformation",
        "transformations",
        "trs",
        transformation,
        shapes.transformation,
        toggles=(),
        users=lambda r: connections_where(
            lambda c: any(rule.get("transformation_id") == r["id"] for rule in c.get("rules", []))
        ),
    )

    async def resolved(
        kind: Kind, project_id: str, data: dict[str, Any], what: str, staged: Staged
    ) -> dict[str, Any]:
        if data.get(f"{what}_id"):
            return resources.owned(kind.name, project_id, str(data[f"{what}_id"]))
        return await resources.found_or_staged(kind, project_id, data.get(what), what, staged)

    async def staged_rules(project_id: str, given: Any, staged: Staged) -> Any:
        """The rules, an inline transformation found by name or staged."""
        if isinstance(given, list):
            given = [
                {
                    "type": "transform",
                    "transformation_id": (
                        await resources.found_or_staged(
                            transformations,
                            project_id,
                            rule["transformation"],
                            "transformation",
                            staged,
                        )
                    )["id"],
                }
                if isinstance(rule, dict)
                and rule.get("type") == "transform"
                and isinstance(rule.get("transformation"), dict)
                else rule
                for rule in given
            ]
        return given

    async def connection(
        project_id: str, data: dict[str, Any], existing: dict[str, Any] | None, staged: Staged
    ) -> dict[str, Any]:
        old = settable(existing)
        body = checked(ConnectionInput, {**old, **data, "rules": None})  # rules: below
        if existing is None:
            src = await resolved(sources, project_id, data, "source", staged)
        else:
            src = resources.owned("source", project_id, existing["source_id"])
            if data.get("source_id", src["id"]) != src["id"]:
                raise ApiError(
                    422,
                    "UNPROCESSABLE_ENTITY",
                    "A connection's source cannot change; create another connection.",
                )
        if existing is None or "destination_id" in data or "destination" in data:
            dst = await resolved(destinations, project_id, data, "destination", staged)
        else:
            dst = resources.owned("destination", project_id, existing["destination_id"])
        given_rules = data["rules"] if "rules" in data else old.get("rules", [])

        def exists(transformation_id: str) -> bool:
            if staged.has("transformation", transformation_id):
                return True
            found = state.get("transformation", transformation_id)
            return found is not None and found["project_id"] == project_id

        rules = checked(
            ConnectionInput,
            {"rules": await staged_rules(project_id, given_rules, staged)},
            {"transformation_exists": exists},
        ).rules
        return {
            "name": body.name or f"{src['name']}-{dst['name']}",
            "description": body.description,
            "source_id": src["id"],
            "destination_id": dst["id"],
            "rules": rules,
            "ordering": body.ordering,
            **{k: old[k] for k in ("disabled_at", "paused_at") if k in old},
        }

    connections = Kind(
        "connection",
        "connections",
        "web",
        connection,
        lambda r: shapes.connection(r, state, ingest_url),
        filters=("source_id", "destination_id"),
        toggles=("disabled_at", "paused_at"),
    )

    async def issue_trigger(
        _: str, data: dict[str, Any], existing: dict[str, Any] | None, __: Staged
    ) -> dict[str, Any]:
        base = settable(existing)
        if data.get("type", base.get("type")) != base.get("type"):
            base.pop("configs", None)  # another type: its configs do not carry over
        return checked(IssueTriggerInput, {**base, **data}).fields()

    # Stored and served now; what they open and notify arrives with issues (issue 7).
    issue_triggers = Kind(
        "issue_trigger", "issue-triggers", "it", issue_trigger, shapes.issue_trigger
    )

    async def bookmark(
        project_id: str, data: dict[str, Any], existing: dict[str, Any] | None, _: Staged
    ) -> dict[str, Any]:
        old = settable(existing)
        fields = checked(BookmarkInput, {**old, **data}).fields()
        resources.owned("connection", project_id, fields["webhook_id"])
        request_id = fields["event_data_id"]
        if request_id != old.get("event_data_id") and not await request_exists(
            project_id, request_id
        ):
            raise ApiError(
                422,
                "UNPROCESSABLE_ENTITY",
                f"No stored request {request_id} (a request is queryable a few seconds "
                "after it arrived).",
            )
        return fields

    bookmarks = Kind(
        "bookmark",
        "bookmarks",
        "bmk",
        bookmark,
        shapes.bookmark,
        filters=("webhook_id", "event_data_id", "label"),
        toggles=(),
    )
    kinds = (sources, destinations, connections, transformations, issue_triggers, bookmarks)
    return {k.name: k for k in kinds}
