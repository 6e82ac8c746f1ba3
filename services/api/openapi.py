"""The OpenAPI 3.1 document the API serves at ``/{API_VERSION}/openapi.json``.

Built from the same :class:`Kind` list that builds the routes, so a resource cannot be
served without being described; its schemas are generated from the models that check
the bodies and describe the answers (``models/``), so this module only assembles paths.  A
schemathesis run in the test suite checks the document against the running API.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from hookhouse.api.bulk import TYPES as BULK_TYPES
from hookhouse.api.handlers.resources import ALIASES
from hookhouse.api.measures import DIMENSIONS, MEASURES
from hookhouse.api.models import responses
from hookhouse.api.models.actions import (
    BackfillInput,
    BulkRetryInput,
    IssueUpdate,
    NotificationSettingInput,
    RequestRetry,
)
from hookhouse.api.models.bookmarks import BookmarkInput, BookmarkTrigger
from hookhouse.api.models.connections import BacktestInput, ConnectionInput
from hookhouse.api.models.custom_domains import CustomDomainInput
from hookhouse.api.models.destinations import DestinationInput
from hookhouse.api.models.issue_triggers import IssueTriggerInput
from hookhouse.api.models.sources import SourceInput
from hookhouse.api.models.transformations import TransformationInput, TransformationRun
from hookhouse.api.pages import MAX_LIMIT
from hookhouse.api.queries import TABLES, Table
from hookhouse.api.resources import Kind

Schema = dict[str, Any]
# The models the document names, by their component name: bodies in validation mode,
# answers in serialization mode.
INPUTS: tuple[type[BaseModel], ...] = (
    SourceInput,
    DestinationInput,
    ConnectionInput,
    TransformationInput,
    IssueTriggerInput,
    BookmarkInput,
    BookmarkTrigger,
    TransformationRun,
    IssueUpdate,
    RequestRetry,
    BulkRetryInput,
    BackfillInput,
    NotificationSettingInput,
    CustomDomainInput,
    BacktestInput,
)
ANSWERS: tuple[type[BaseModel], ...] = (
    *responses.RESOURCES,
    *responses.RECORDS,
    responses.NotificationSetting,
    responses.TransformationRunResult,
    responses.CustomDomain,
    responses.BacktestResult,
    responses.Error,
)


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def components() -> dict[str, Schema]:
    """Every model's JSON Schema, and those of the models they hold."""
    _, schemas = models_json_schema(
        [*((m, "validation") for m in INPUTS), *((m, "serialization") for m in ANSWERS)],
        ref_template="#/components/schemas/{model}",
    )
    return dict(schemas["$defs"])


def title(kind: str) -> str:
    return kind.title().replace("_", "")


def errors(*statuses: int) -> dict[str, Any]:
    readable = {
        400: "The body is not JSON",
        401: "No valid API key",
        404: "Not found in the caller's project",
        409: "The data is not stored yet, or a backfill of the connection is in progress",
        413: "The body is larger than HOOKHOUSE_API_MAX_BODY_BYTES",
        422: "A field, parameter or name is refused; the message names it",
        429: "The project is already running one of these",
        503: "Kafka could not store the change, or ClickHouse could not answer",
        504: "ClickHouse stopped the query at its time limit; narrow it",
    }
    return {
        str(s): {
            "description": readable[s],
            "content": {"application/json": {"schema": ref("Error")}},
        }
        for s in statuses
    }


def ok(schema: Schema) -> dict[str, Any]:
    return {"200": {"description": "OK", "content": {"application/json": {"schema": schema}}}}


def query(name: str, schema: Schema, many: bool = False) -> Schema:
    if many:
        schema = {"anyOf": [schema, {"type": "array", "items": schema}]}
        return {"name": name, "in": "query", "schema": schema, "style": "form", "explode": True}
    return {"name": name, "in": "query", "schema": schema}


PAGING = [
    query("order_by", {"enum": ["created_at", "updated_at"]}),
    query("dir", {"enum": ["asc", "desc"]}),
    query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
    query("next", {"type": "string"}),
    query("prev", {"type": "string"}),
]
PAGING_NAMES = {"order_by", "dir", "limit", "next", "prev"}
ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}


def page_of(schema: Schema) -> Schema:
    return {
        "type": "object",
        "required": ["pagination", "count", "models"],
        "properties": {
            "pagination": {"type": "object"},
            "count": {"type": "integer"},
            "models": {"type": "array", "items": schema},
        },
    }


def resource_paths(kind: Kind) -> dict[str, Any]:
    name = title(kind.name)
    body = {"required": True, "content": {"application/json": {"schema": ref(f"{name}Input")}}}
    filters = [
        query("id", {"type": "string"}, many=True),
        query("name", {"type": "string"}),
        *(query(t.removesuffix("_at"), {"type": "boolean"}) for t in kind.toggles),
        *(query(f, {"type": "string"}, many=True) for f in kind.filters),
        *(
            query(f"{field}[{op}]", {"type": "string", "format": "date-time"})
            for field in ("created_at", "updated_at")
            for op in ("gte", "gt", "lte", "lt")
        ),
    ]
    tag = [kind.path]
    paths: dict[str, Any] = {
        f"/{kind.path}": {
            "get": {
                "tags": tag,
                "summary": f"List {kind.path}",
                "parameters": [*filters, *PAGING],
                "responses": {**ok(page_of(ref(name))), **errors(401, 422)},
            },
            "post": {
                "tags": tag,
                "summary": f"Create a {kind.name}",
                "requestBody": body,
                "responses": {**ok(ref(name)), **errors(400, 401, 404, 422, 503)},
            },
            "put": {
                "tags": tag,
                "summary": f"Create or update a {kind.name} by name",
                "requestBody": body,
                "responses": {**ok(ref(name)), **errors(400, 401, 404, 422, 503)},
            },
        },
        f"/{kind.path}/count": {
            "get": {
                "tags": tag,
                "summary": f"Count {kind.path}",
                "parameters": filters,
                "responses": {
                    **ok({"type": "object", "properties": {"count": {"type": "integer"}}}),
                    **errors(401, 422),
                },
            }
        },
        f"/{kind.path}/{{id}}": {
            "parameters": [ID],
            "get": {
                "tags": tag,
                "summary": f"Retrieve a {kind.name}",
                "responses": {**ok(ref(name)), **errors(401, 404)},
            },
            "put": {
                "tags": tag,
                "summary": f"Update a {kind.name}: fields not given keep their value",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "responses": {**ok(ref(name)), **errors(400, 401, 404, 422, 503)},
            },
            "delete": {
                "tags": tag,
                "summary": f"Delete a {kind.name} (refused while something uses it)",
                "responses": {
                    **ok({"type": "object", "properties": {"id": {"type": "string"}}}),
                    **errors(401, 404, 422, 503),
                },
            },
        },
    }
    actions = {"disabled_at": ("disable", "enable"), "paused_at": ("pause", "unpause")}
    for toggle in kind.toggles:
        for action in (*actions[toggle], *(ALIASES[a] for a in actions[toggle] if a in ALIASES)):
            paths[f"/{kind.path}/{{id}}/{action}"] = {
                "parameters": [ID],
                "put": {
                    "tags": tag,
                    "summary": f"{action.title()} a {kind.name}",
                    "responses": {**ok(ref(name)), **errors(401, 404, 503)},
                },
            }
    return paths


# The query side: ClickHouse-backed lists (their filters are queries.TABLES).
QUERIES: dict[str, tuple[str, str]] = {
    "/requests": ("Request", "requests"),
    "/events": ("Event", "events"),
    "/attempts": ("Attempt", "attempts"),
    "/requests/{request_id}/events": ("Event", "events"),
    "/requests/{request_id}/ignored_events": ("IgnoredEvent", "ignored_events"),
    "/transformations/{transformation_id}/executions": (
        "TransformationExecution",
        "transformation_executions",
    ),
}


def table_parameters(table: Table) -> list[Schema]:
    ops = ("gte", "gt", "lte", "lt")
    number = {"type": "integer"}
    return [
        *(query(name, {"type": "string"}, many=True) for name in table.text),
        *(query(name, number) for name in table.numbers),
        *(query(f"{name}[{op}]", number) for name in table.numbers for op in ops),
        *(query(name, {"type": "boolean"}) for name in table.booleans),
        *(
            query(f"{name}[{op}]", {"type": "string", "format": "date-time"})
            for name in table.times
            for op in ops
        ),
        *([query("search_term", {"type": "string"})] if table.search else []),
        *(
            [query("status", {"enum": ["accepted", "rejected"]})]
            if table.name == "requests"
            else []
        ),
        query("order_by", {"enum": ["created_at"]}),
        *PAGING[1:],
    ]


def query_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, (name, table) in QUERIES.items():
        in_path = [
            {"name": p.strip("{}"), "in": "path", "required": True, "schema": {"type": "string"}}
            for p in path.split("/")
            if p.startswith("{")
        ]
        fixed = {p["name"] for p in in_path}
        parameters = [q for q in table_parameters(TABLES[table]) if q["name"] not in fixed]
        paths[path] = {
            "get": {
                "tags": ["queries"],
                "summary": f"List {name} records, newest first",
                "parameters": [*in_path, *parameters],
                "responses": {
                    **ok(page_of(ref(name))),
                    **errors(401, *((404,) if in_path else ()), 422, 503),
                },
            }
        }
    raw = {"type": "object", "required": ["body"], "properties": {"body": {"type": "string"}}}
    for path, codes in (
        ("/requests/{id}/raw_body", (401, 404)),
        ("/events/{id}/raw_body", (401, 404, 409)),
    ):
        paths[path] = {
            "parameters": [ID],
            "get": {
                "tags": ["queries"],
                "summary": "The body as text",
                "responses": {**ok(raw), **errors(*codes)},
            },
        }
    for path, name in (("/requests/{id}", "Request"), ("/attempts/{id}", "Attempt")):
        paths[path] = item(get=op("queries", f"Retrieve a {name}", ref(name), 401, 404, 503))
    paths["/transformations/{transformation_id}/executions/{id}"] = {
        "parameters": [{**ID, "name": "transformation_id"}, ID],
        "get": op(
            "queries",
            "Retrieve one execution of a transformation",
            ref("TransformationExecution"),
            *(401, 404, 503),
        ),
    }
    anything: Schema = {"type": "object"}
    listing: Schema = {"type": "array", "items": {"type": "object"}}
    paths["/events/{id}"] = item(
        get=op(
            "queries",
            "Retrieve an event with the data it delivers",
            ref("Event"),
            *(401, 404, 409, 503),
        )
    )
    paths["/events/{id}/retry"] = item(
        post=op(
            "queries",
            "Deliver the event again now (trigger MANUAL)",
            anything,
            *(401, 404, 409, 422, 503),
        )
    )
    for action in ("mute", "cancel"):
        paths[f"/events/{{id}}/{action}"] = item(
            put=op(
                "queries",
                "Cancel the event's pending deliveries (FAILED, error CANCELLED)",
                ref("Event"),
                *(401, 404, 503),
            )
        )
    paths["/requests/{id}/retry"] = item(
        post=op(
            "queries",
            "Route the request again (trigger MANUAL): new events or ignored events",
            anything,
            *(400, 401, 404, 422, 503),
            requestBody=body(ref("RequestRetry"), required=False),
        )
    )
    paths["/bookmarks/{id}/raw_body"] = item(
        get=op("bookmarks", "The bookmarked request's body as text", raw, 401, 404, 503)
    )
    paths["/bookmarks/{id}/trigger"] = item(
        post=op(
            "bookmarks",
            "Replay the bookmarked request through its connection (trigger MANUAL)",
            listing,
            *(400, 401, 404, 422, 503),
            requestBody=body(ref("BookmarkTrigger"), required=False),
        )
    )
    bulk = ref("BulkRetry")
    for name, kind in BULK_TYPES.items():
        filters = [q for q in table_parameters(TABLES[kind]) if q["name"] not in PAGING_NAMES]
        base = f"/bulk/{name}/retry"
        paths[f"{base}/plan"] = {
            "get": op(
                "bulk",
                f"How many {kind} a bulk retry with these filters would retry",
                anything,
                *(401, 422, 503),
                parameters=filters,
            )
        }
        paths[base] = {
            "get": op("bulk", "List bulk retries", page_of(bulk), 401, 422, parameters=PAGING[1:]),
            "post": op(
                "bulk",
                f"Retry every one of the {kind} matching 'query' (their list's filters)",
                bulk,
                *(400, 401, 422, 503),
                requestBody=body(ref("BulkRetryInput")),
            ),
        }
        paths[f"{base}/{{id}}"] = item(
            get=op("bulk", "A bulk retry and its progress", bulk, 401, 404)
        )
        paths[f"{base}/{{id}}/cancel"] = item(
            post=op("bulk", "Stop a bulk retry after the batch in flight", bulk, 401, 404, 503)
        )
    paths.update(backfill_paths())
    for kind in MEASURES:
        filters = [q for q in table_parameters(TABLES[kind]) if q["name"] not in PAGING_NAMES]
        paths[f"/metrics/{kind}"] = {
            "get": op(
                "metrics",
                f"Measures of {kind} over time buckets, split by dimensions",
                listing,
                *(401, 422, 503),
                parameters=[
                    query("measures", {"enum": list(MEASURES[kind])}, many=True),
                    query("dimensions", {"enum": list(DIMENSIONS[kind])}, many=True),
                    query("granularity", {"type": "string", "pattern": "^[1-9][0-9]{0,4}[smhdw]$"}),
                    query("date_range[gte]", {"type": "string", "format": "date-time"}),
                    query("date_range[lte]", {"type": "string", "format": "date-time"}),
                    *filters,
                ],
            )
        }
    paths["/metrics/queue-depth"] = {
        "get": op("metrics", "Events waiting for delivery now, per destination", listing, 401, 503)
    }
    issue = ref("Issue")
    statuses = {"enum": ["OPENED", "ACKNOWLEDGED", "RESOLVED", "IGNORED"]}
    issue_filters = [
        query("status", statuses, many=True),
        query("type", {"enum": ["delivery", "transformation", "backpressure"]}, many=True),
        query("webhook_id", {"type": "string"}, many=True),
    ]
    order = query("order_by", {"enum": ["updated_at", "created_at"]})
    paths["/issues"] = {
        "get": op(
            "issues",
            "What is failing: failures aggregated per connection and error",
            page_of(issue),
            *(401, 422, 503),
            parameters=[*issue_filters, order, *PAGING[1:]],
        )
    }
    paths["/issues/count"] = {
        "get": op("issues", "Count issues", anything, 401, 503, parameters=issue_filters)
    }
    paths["/issues/{id}"] = item(
        get=op("issues", "Retrieve an issue", issue, 401, 404, 503),
        put=op(
            "issues",
            "Set an issue's status",
            issue,
            *(400, 401, 404, 422, 503),
            requestBody=body(ref("IssueUpdate")),
        ),
        delete=op(
            "issues", "Dismiss an issue until its failures happen again", issue, 401, 404, 503
        ),
    )
    notify = ref("NotificationSetting")
    paths["/notifications/webhooks"] = {
        "get": op("notifications", "Where issue notices go", notify, 401),
        "put": op(
            "notifications",
            "Send issue notices as webhooks through one of your sources",
            notify,
            *(400, 401, 422, 503),
            requestBody=body(ref("NotificationSettingInput")),
        ),
    }
    domain = ref("CustomDomain")
    paths["/teams/current/custom_domains"] = {
        "get": op(
            "custom domains", "List your custom domains", {"type": "array", "items": domain}, 401
        ),
        "post": op(
            "custom domains",
            "Add a host name under which ingest takes your sources' requests",
            domain,
            *(400, 401, 422, 503),
            requestBody=body(ref("CustomDomainInput")),
        ),
    }
    paths["/teams/current/custom_domains/{domain_id}"] = {
        "parameters": [{**ID, "name": "domain_id"}],
        "delete": op(
            "custom domains",
            "Delete a custom domain",
            {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
            401,
            404,
            503,
        ),
    }
    paths["/connections/backtest"] = {
        "post": op(
            "connections",
            "What rules not yet saved would have done to a source's stored requests",
            ref("BacktestResult"),
            *(400, 401, 404, 422, 429, 503, 504),
            requestBody=body(ref("BacktestInput")),
        )
    }
    paths["/transformations/run"] = {
        "put": op(
            "transformations",
            "Run code (or a saved transformation) on a sample request",
            ref("TransformationRunResult"),
            *(400, 401, 404, 422),
            requestBody=body(ref("TransformationRun")),
        )
    }
    return paths


def backfill_paths() -> dict[str, Any]:
    job = ref("Backfill")
    time = {"type": "string", "format": "date-time"}
    window = [{**query("since", time), "required": True}, query("until", time)]
    plan = {"type": "object", "required": ["estimated_count", "since", "until"]}
    return {
        "/connections/{id}/backfill/plan": item(
            get=op(
                "bulk",
                "How many stored requests a backfill of the connection would route",
                plan,
                *(401, 404, 422, 503),
                parameters=window,
            )
        ),
        "/connections/{id}/backfill": item(
            post=op(
                "bulk",
                "Route the source's stored requests since a time through this connection "
                "(trigger BACKFILL), skipping those it already received",
                job,
                *(400, 401, 404, 409, 422, 503),
                requestBody=body(ref("BackfillInput")),
            )
        ),
        "/bulk/backfill": {
            "get": op(
                "bulk",
                "List backfills",
                page_of(job),
                *(401, 422),
                parameters=[query("webhook_id", {"type": "string"}, many=True), *PAGING[1:]],
            )
        },
        "/bulk/backfill/{id}": item(get=op("bulk", "A backfill and its progress", job, 401, 404)),
        "/bulk/backfill/{id}/cancel": item(
            post=op("bulk", "Stop a backfill after the batch in flight", job, 401, 404, 503)
        ),
    }


def op(tag: str, summary: str, answer: Schema, *statuses: int, **extra: Any) -> Schema:
    """One operation: its answer's schema, the error statuses it may give, and any
    ``parameters`` or ``requestBody``."""
    return {
        "tags": [tag],
        "summary": summary,
        **extra,
        "responses": {**ok(answer), **errors(*statuses)},
    }


def item(**operations: Schema) -> Schema:
    """A path with an ``{id}`` and its operations."""
    return {"parameters": [ID], **operations}


def body(schema: Schema, required: bool = True) -> Schema:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def document(kinds: list[Kind], version: str) -> Schema:
    paths: dict[str, Any] = {}
    for kind in kinds:
        paths.update(resource_paths(kind))
    paths.update(query_paths())
    for operations in paths.values():  # any body may be too large
        for operation in operations.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation["responses"].update(errors(413))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hookhouse API",
            "version": version,
            "description": "Hookdeck's API (2024-03-01) shapes over Kafka and ClickHouse.",
        },
        "servers": [{"url": f"/{version}"}],
        "security": [{"bearer": []}, {"basic": []}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "basic": {"type": "http", "scheme": "basic"},
            },
            "schemas": components(),
        },
        "paths": paths,
    }
