"""The configuration resources the management API serves, as :class:`Kind`\\ s: how
each request body becomes stored fields, how each is shown, what blocks a delete.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from hookhouse.api import shapes
from hookhouse.api.fields import (
    ApiError,
    bookmark_fields,
    destination_fields,
    issue_trigger_fields,
    optional_text,
    source_fields,
    transformation_fields,
)
from hookhouse.api.resources import Kind, Resources, Staged, settable
from hookhouse.common.domain.rules import InvalidRule, check_rules

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
        return source_fields({**settable(existing), **data})

    async def destination(
        _: str, data: dict[str, Any], existing: dict[str, Any] | None, __: Staged
    ) -> Any:
        return destination_fields({**settable(existing), **data})

    async def transformation(
        project_id: str, data: dict[str, Any], existing: dict[str, Any] | None, _: Staged
    ) -> dict[str, Any]:
        fields = transformation_fields({**settable(existing), **data})
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

    async def rules(project_id: str, given: Any, staged: Staged) -> list[dict[str, Any]]:
        """The rules, checked; an inline transformation is found by name or staged."""
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

        def exists(transformation_id: str) -> bool:
            if staged.has("transformation", transformation_id):
                return True
            found = state.get("transformation", transformation_id)
            return found is not None and found["project_id"] == project_id

        try:
            return check_rules(given, exists)
        except InvalidRule as exc:
            raise ApiError(422, "UNPROCESSABLE_ENTITY", str(exc)) from exc

    async def connection(
        project_id: str, data: dict[str, Any], existing: dict[str, Any] | None, staged: Staged
    ) -> dict[str, Any]:
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
        old = settable(existing)
        name = optional_text(data, "name") or old.get("name") or f"{src['name']}-{dst['name']}"
        given_rules = data["rules"] if "rules" in data else old.get("rules", [])
        return {
            "name": name,
            "description": optional_text({**old, **data}, "description"),
            "source_id": src["id"],
            "destination_id": dst["id"],
            "rules": await rules(project_id, given_rules, staged),
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
        return issue_trigger_fields({**base, **data})

    # Stored and served now; what they open and notify arrives with issues (issue 7).
    issue_triggers = Kind(
        "issue_trigger", "issue-triggers", "it", issue_trigger, shapes.issue_trigger
    )

    async def bookmark(
        project_id: str, data: dict[str, Any], existing: dict[str, Any] | None, _: Staged
    ) -> dict[str, Any]:
        old = settable(existing)
        fields = bookmark_fields({**old, **data})
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
