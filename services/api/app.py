"""The API service: configuration through the config log, queries through ClickHouse.

Writes append to the ``config`` topic and answer once this process has read them back
(DESIGN section 3).  Reads of requests, events and attempts query ClickHouse with the
caller's project in every ``WHERE``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
from clickhouse_connect.driver.client import Client
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from hookhouse.api import shapes
from hookhouse.api.auth import presented_key
from hookhouse.common import clickhouse, topics
from hookhouse.common.clock import iso_ms, now_ms
from hookhouse.common.config import new_resource
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.destination_auth import InvalidAuthConfig, credentials
from hookhouse.common.health import Readiness, routes
from hookhouse.common.kafka import AsyncProducer, KafkaProbe, KafkaUnavailable, ensure_topics
from hookhouse.common.message import Message, Transformed, body_bytes
from hookhouse.common.records import Delivery, EventRow
from hookhouse.common.rules import InvalidRule, check_rules
from hookhouse.common.runtime import serve_app, start
from hookhouse.common.settings import Settings, load
from hookhouse.common.signing import InvalidSigningConfig
from hookhouse.common.transformations import Limits, Runtime
from hookhouse.common.verification import InvalidVerification
from hookhouse.common.verification import check as check_verification

API_VERSION = "2024-03-01"
MAX_LIMIT = 250

Handler = Callable[[Request, str], Awaitable[Response]]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str) -> Response:
    return JSONResponse(
        {"handled": True, "status": status, "code": code, "message": message}, status_code=status
    )


async def json_body(request: Request) -> dict[str, Any]:
    try:
        data = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "INVALID_JSON", f"The body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "INVALID_JSON", "The body must be a JSON object.")
    return data


def required_text(data: dict[str, Any], field: str) -> str:
    value = data.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(422, "UNPROCESSABLE_ENTITY", f"'{field}' is required and must be text.")
    return value


def page(models: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    """Hookdeck's list envelope; cursors arrive with the query API (issue 7)."""
    return {
        "pagination": {
            "order_by": "created_at",
            "dir": "desc",
            "limit": limit,
            "next": None,
            "prev": None,
        },
        "count": len(models),
        "models": models,
    }


def build_app(settings: Settings) -> Starlette:
    config = ConfigLog(settings)
    database = settings.clickhouse_database
    ingest_url = settings.ingest_url
    holder: dict[str, Client] = {}
    # Transformation test runs: one V8 runtime, used from one thread, off the loop.
    runtime = Runtime(Limits.of(settings))
    javascript = ThreadPoolExecutor(max_workers=1, thread_name_prefix="javascript")
    outputs: list[AsyncProducer] = []  # made in the lifespan, on the server's loop

    def ch() -> Client:
        if "client" not in holder:
            holder["client"] = clickhouse.client(settings, database)
        return holder["client"]

    def clickhouse_ok() -> bool:
        return bool(ch().command("SELECT 1") == 1)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await asyncio.to_thread(ensure_topics, settings)
        config.start()
        outputs.append(AsyncProducer(settings))
        yield
        await asyncio.to_thread(outputs[0].close)
        config.stop()
        javascript.submit(runtime.close).result()
        javascript.shutdown()

    def authenticated(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def wrapper(request: Request) -> Response:
            key = presented_key(request.headers.get("authorization"))
            record = config.state.api_key(key) if key else None
            if record is None:
                return error_response(
                    401,
                    "UNAUTHORIZED",
                    "A valid API key is required (Authorization: Bearer <key>).",
                )
            try:
                return await handler(request, record["project_id"])
            except ApiError as exc:
                return error_response(exc.status, exc.code, exc.message)

        return wrapper

    async def write(kind: str, resource: dict[str, Any]) -> None:
        await asyncio.to_thread(config.append, kind, resource["id"], resource)

    def owned(kind: str, project_id: str, resource_id: str) -> dict[str, Any]:
        resource = config.state.get(kind, resource_id)
        if resource is None or resource.get("project_id") != project_id:
            raise ApiError(404, "NOT_FOUND", f"No {kind} with id {resource_id}.")
        return resource

    async def create(
        kind: str, prefix: str, project_id: str, fields: dict[str, Any]
    ) -> dict[str, Any]:
        name = required_text(fields, "name")
        if config.state.find(kind, project_id, name) is not None:
            raise ApiError(422, "NAME_TAKEN", f"A {kind} named '{name}' already exists.")
        resource = new_resource(prefix, project_id, fields)
        await write(kind, resource)
        return resource

    async def source_from(project_id: str, data: dict[str, Any]) -> dict[str, Any]:
        if "source_id" in data:
            return owned("source", project_id, str(data["source_id"]))
        inline = data.get("source")
        if not isinstance(inline, dict):
            raise ApiError(422, "UNPROCESSABLE_ENTITY", "Give 'source_id' or a 'source' object.")
        existing = config.state.find("source", project_id, str(inline.get("name")))
        return existing or await create("source", "src", project_id, source_fields(inline))

    async def destination_from(project_id: str, data: dict[str, Any]) -> dict[str, Any]:
        if "destination_id" in data:
            return owned("destination", project_id, str(data["destination_id"]))
        inline = data.get("destination")
        if not isinstance(inline, dict):
            raise ApiError(
                422, "UNPROCESSABLE_ENTITY", "Give 'destination_id' or a 'destination' object."
            )
        existing = config.state.find("destination", project_id, str(inline.get("name")))
        return existing or await create(
            "destination", "des", project_id, destination_fields(inline)
        )

    async def post_source(request: Request, project_id: str) -> Response:
        resource = await create(
            "source", "src", project_id, source_fields(await json_body(request))
        )
        return JSONResponse(shapes.source(resource, ingest_url))

    async def post_destination(request: Request, project_id: str) -> Response:
        resource = await create(
            "destination", "des", project_id, destination_fields(await json_body(request))
        )
        return JSONResponse(shapes.destination(resource))

    async def rules_from(project_id: str, data: dict[str, Any]) -> list[dict[str, Any]]:
        """The connection's rules, checked; an inline transformation is created first."""
        rules = data.get("rules")
        if isinstance(rules, list):
            for index, rule in enumerate(rules):
                inline = rule.get("transformation") if isinstance(rule, dict) else None
                if rule.get("type") == "transform" and isinstance(inline, dict):
                    made = config.state.find(
                        "transformation", project_id, str(inline.get("name"))
                    ) or await create_transformation(project_id, inline)
                    rules[index] = {"type": "transform", "transformation_id": made["id"]}

        def exists(transformation_id: str) -> bool:
            found = config.state.get("transformation", transformation_id)
            return found is not None and found["project_id"] == project_id

        try:
            return check_rules(rules, exists)
        except InvalidRule as exc:
            raise ApiError(422, "UNPROCESSABLE_ENTITY", str(exc)) from exc

    async def post_connection(request: Request, project_id: str) -> Response:
        data = await json_body(request)
        rules = await rules_from(project_id, data)
        src = await source_from(project_id, data)
        dst = await destination_from(project_id, data)
        name = data.get("name") or f"{src['name']}-{dst['name']}"
        resource = await create(
            "connection",
            "web",
            project_id,
            {
                "name": name,
                "description": data.get("description"),
                "source_id": src["id"],
                "destination_id": dst["id"],
                "rules": rules,
            },
        )
        return JSONResponse(shapes.connection(resource, config.state, ingest_url))

    async def update(
        kind: str, resource: dict[str, Any], changes: dict[str, Any]
    ) -> dict[str, Any]:
        changed = {**resource, **changes, "updated_at": iso_ms(now_ms())}
        await write(kind, changed)
        return changed

    async def get_connection(request: Request, project_id: str) -> Response:
        resource = owned("connection", project_id, request.path_params["id"])
        return JSONResponse(shapes.connection(resource, config.state, ingest_url))

    async def put_connection(request: Request, project_id: str) -> Response:
        """Update a connection's name, description or rules (source and destination stay)."""
        resource = owned("connection", project_id, request.path_params["id"])
        data = await json_body(request)
        changes: dict[str, Any] = {}
        if "rules" in data:
            changes["rules"] = await rules_from(project_id, data)
        if "description" in data:
            changes["description"] = data["description"]
        if "name" in data:
            name = required_text(data, "name")
            taken = config.state.find("connection", project_id, name)
            if taken is not None and taken["id"] != resource["id"]:
                raise ApiError(422, "NAME_TAKEN", f"A connection named '{name}' already exists.")
            changes["name"] = name
        updated = await update("connection", resource, changes)
        return JSONResponse(shapes.connection(updated, config.state, ingest_url))

    def connection_state(field: str, on: bool) -> Handler:
        """pause / unpause / disable / enable: set or clear ``paused_at`` or ``disabled_at``."""

        async def handler(request: Request, project_id: str) -> Response:
            resource = owned("connection", project_id, request.path_params["id"])
            stamp = (resource.get(field) or iso_ms(now_ms())) if on else None
            updated = await update("connection", resource, {field: stamp})
            return JSONResponse(shapes.connection(updated, config.state, ingest_url))

        return handler

    async def run_js(code: str, env: dict[str, str], message: Message) -> Transformed:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(javascript, runtime.run, code, env, message)

    async def create_transformation(project_id: str, data: dict[str, Any]) -> dict[str, Any]:
        fields = transformation_fields(data)
        # Code that does not even load is refused now rather than failing every event.
        probe = await run_js(fields["code"], fields["env"], Message({}, b"{}", "/", ""))
        if probe.message is None and probe.error.startswith("the code does not load"):
            raise ApiError(422, "UNPROCESSABLE_ENTITY", probe.error)
        return await create("transformation", "trs", project_id, fields)

    async def post_transformation(request: Request, project_id: str) -> Response:
        resource = await create_transformation(project_id, await json_body(request))
        return JSONResponse(shapes.transformation(resource))

    async def get_transformation(request: Request, project_id: str) -> Response:
        resource = owned("transformation", project_id, request.path_params["id"])
        return JSONResponse(shapes.transformation(resource))

    async def run_transformation(request: Request, project_id: str) -> Response:
        """Test code (given, or a saved transformation's) on a sample request."""
        data = await json_body(request)
        if data.get("transformation_id"):
            saved = owned("transformation", project_id, str(data["transformation_id"]))
            code, env = saved["code"], {**(saved.get("env") or {}), **(data.get("env") or {})}
        else:
            fields = transformation_fields({"name": "run", **data})
            code, env = fields["code"], fields["env"]
        outcome = await run_js(code, env, sample_message(data.get("request")))
        return JSONResponse(
            {
                "request": outcome.message.as_request() if outcome.message else None,
                "error": outcome.error or None,
                "console": outcome.logs,
            }
        )

    def config_listing(kind: str, shape: Callable[[dict[str, Any]], dict[str, Any]]) -> Handler:
        """A list endpoint over the project's resources of one kind in the config view."""

        async def handler(request: Request, project_id: str) -> Response:
            models = [shape(r) for r in config.state.list(kind, project_id)]
            return JSONResponse(page(models, len(models)))

        return handler

    def query_rows(
        table: str, project_id: str, equal: dict[str, str], limit: int
    ) -> list[dict[str, Any]]:
        """Newest rows of ``table`` in the project whose columns equal ``equal``."""
        where = ["project_id = {project_id:String}"]
        params: dict[str, Any] = {"project_id": project_id, "limit": limit}
        for index, (column, value) in enumerate(equal.items()):
            where.append(f"{column} = {{v{index}:String}}")
            params[f"v{index}"] = value
        sql = (
            f"SELECT * FROM {table} FINAL WHERE {' AND '.join(where)} "  # noqa: S608
            "ORDER BY created_at DESC, id DESC LIMIT {limit:UInt32}"
        )
        result = ch().query(sql, parameters=params)
        return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]

    def listing(
        table: str, filters: dict[str, str], shape: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> Handler:
        """A list endpoint; ``filters`` maps query parameters to the columns they match."""

        async def handler(request: Request, project_id: str) -> Response:
            raw_limit = request.query_params.get("limit", "100")
            if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
                raise ApiError(
                    422,
                    "UNPROCESSABLE_ENTITY",
                    f"'limit' must be a whole number from 1 to {MAX_LIMIT}.",
                )
            given = {**request.query_params, **request.path_params}
            equal = {column: given[param] for param, column in filters.items() if given.get(param)}
            rows = await asyncio.to_thread(query_rows, table, project_id, equal, int(raw_limit))
            return JSONResponse(page([shape(r) for r in rows], int(raw_limit)))

        return handler

    async def one_row(table: str, project_id: str, row_id: str) -> dict[str, Any] | None:
        rows = await asyncio.to_thread(query_rows, table, project_id, {"id": row_id}, 1)
        return rows[0] if rows else None

    async def found(table: str, project_id: str, row_id: str) -> dict[str, Any]:
        """The row, or 404 naming what was not found."""
        row = await one_row(table, project_id, row_id)
        if row is None:
            raise ApiError(404, "NOT_FOUND", f"No {table[:-1]} with id {row_id}.")
        return row

    def retrieve(table: str, shape: Callable[[dict[str, Any]], dict[str, Any]]) -> Handler:
        async def handler(request: Request, project_id: str) -> Response:
            return JSONResponse(shape(await found(table, project_id, request.path_params["id"])))

        return handler

    async def delivered_payload(
        project_id: str, event: dict[str, Any], origin: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """What the event delivers: its transformed payload, else its request (``origin``,
        when the caller already read it)."""
        payload = await one_row("event_payloads", project_id, event["id"])
        if payload is None:
            payload = origin or await one_row("requests", project_id, event["request_id"])
        if payload is None:
            raise ApiError(
                409, "EVENT_DATA_UNAVAILABLE", "This event's data is not stored yet; try again."
            )
        return payload

    async def get_event(request: Request, project_id: str) -> Response:
        event = await found("events", project_id, request.path_params["id"])
        payload = await delivered_payload(project_id, event)
        return JSONResponse({**shapes.event(event), "data": shapes.event_data(payload)})

    async def retry_event(request: Request, project_id: str) -> Response:
        """Deliver the event again now (trigger MANUAL), whatever its status."""
        event = await found("events", project_id, request.path_params["id"])
        connection = config.state.get("connection", event["connection_id"])
        if connection is None:
            raise ApiError(422, "CONNECTION_DELETED", "This event's connection was deleted.")
        origin = await one_row("requests", project_id, event["request_id"])
        payload = await delivered_payload(project_id, event, origin)
        received_at = shapes.iso(origin["created_at"]) if origin else None
        delivery = Delivery(
            event_id=event["id"],
            project_id=project_id,
            request_id=event["request_id"],
            source_id=event["source_id"],
            connection_id=event["connection_id"],
            destination_id=event["destination_id"],
            created_at=shapes.iso(event["created_at"]) or iso_ms(now_ms()),
            received_at=received_at or iso_ms(now_ms()),
            method=payload["method"],
            path=payload["path"],
            query=payload["query"],
            headers=dict(payload["headers"]),
            body=payload["body"],
            attempt=event["attempts"] + 1,
            trigger="MANUAL",
            verified=origin["verified"] if origin else None,
        )
        queued = EventRow.of(
            delivery,
            "QUEUED",
            now_ms(),
            attempts=event["attempts"],
            last_attempt_at=shapes.iso(event["last_attempt_at"]),
            response_status=event["response_status"],
            error_code=event["error_code"],
        )
        producer = outputs[0]
        try:
            await asyncio.gather(
                producer.send(
                    topics.name(settings, topics.DELIVERIES),
                    delivery.to_json(),
                    key=delivery.destination_id,
                ),
                producer.send(
                    topics.name(settings, topics.RECORDS),
                    orjson.dumps(queued),
                    key=queued.id,
                    headers=[("kind", queued.kind)],
                ),
            )
        except KafkaUnavailable as exc:
            raise ApiError(503, "KAFKA_UNAVAILABLE", f"The retry was not queued: {exc}") from exc
        return JSONResponse({"event": {**shapes.event(event), "status": "QUEUED"}})

    async def mock_destination(request: Request) -> Response:
        """A destination that accepts everything, like Hookdeck's mock destination."""
        await request.body()
        return JSONResponse({"status": "ok", "received": True})

    readiness = Readiness(
        {"kafka": KafkaProbe(settings), "clickhouse": clickhouse_ok, "config": lambda: config.ready}
    )
    versioned = [
        Route("/sources", authenticated(post_source), methods=["POST"]),
        Route(
            "/sources",
            authenticated(config_listing("source", lambda r: shapes.source(r, ingest_url))),
            methods=["GET"],
        ),
        Route("/destinations", authenticated(post_destination), methods=["POST"]),
        Route(
            "/destinations",
            authenticated(config_listing("destination", shapes.destination)),
            methods=["GET"],
        ),
        Route("/connections", authenticated(post_connection), methods=["POST"]),
        Route("/connections/{id}", authenticated(get_connection), methods=["GET"]),
        Route("/connections/{id}", authenticated(put_connection), methods=["PUT"]),
        *(
            Route(
                f"/connections/{{id}}/{action}",
                authenticated(connection_state(field, on)),
                methods=["PUT"],
            )
            for action, field, on in (
                ("pause", "paused_at", True),
                ("unpause", "paused_at", False),
                ("disable", "disabled_at", True),
                ("enable", "disabled_at", False),
            )
        ),
        Route(
            "/connections",
            authenticated(
                config_listing(
                    "connection", lambda r: shapes.connection(r, config.state, ingest_url)
                )
            ),
            methods=["GET"],
        ),
        Route(
            "/requests",
            authenticated(
                listing(
                    "requests",
                    {"source_id": "source_id", "rejection_cause": "rejection_cause"},
                    shapes.request,
                )
            ),
            methods=["GET"],
        ),
        Route(
            "/requests/{id}", authenticated(retrieve("requests", shapes.request)), methods=["GET"]
        ),
        Route(
            "/requests/{request_id}/events",
            authenticated(listing("events", {"request_id": "request_id"}, shapes.event)),
            methods=["GET"],
        ),
        Route(
            "/requests/{request_id}/ignored_events",
            authenticated(
                listing("ignored_events", {"request_id": "request_id"}, shapes.ignored_event)
            ),
            methods=["GET"],
        ),
        Route("/transformations", authenticated(post_transformation), methods=["POST"]),
        Route(
            "/transformations",
            authenticated(config_listing("transformation", shapes.transformation)),
            methods=["GET"],
        ),
        Route("/transformations/run", authenticated(run_transformation), methods=["PUT"]),
        Route("/transformations/{id}", authenticated(get_transformation), methods=["GET"]),
        Route(
            "/transformations/{transformation_id}/executions",
            authenticated(
                listing(
                    "transformation_executions",
                    {
                        "transformation_id": "transformation_id",
                        "webhook_id": "connection_id",
                        "request_id": "request_id",
                        "status": "status",
                    },
                    shapes.transformation_execution,
                )
            ),
            methods=["GET"],
        ),
        Route(
            "/events",
            authenticated(
                listing(
                    "events",
                    {
                        "status": "status",
                        "webhook_id": "connection_id",
                        "source_id": "source_id",
                        "destination_id": "destination_id",
                        "request_id": "request_id",
                    },
                    shapes.event,
                )
            ),
            methods=["GET"],
        ),
        Route("/events/{id}", authenticated(get_event), methods=["GET"]),
        Route("/events/{id}/retry", authenticated(retry_event), methods=["POST"]),
        Route(
            "/attempts",
            authenticated(
                listing("attempts", {"event_id": "event_id", "status": "status"}, shapes.attempt)
            ),
            methods=["GET"],
        ),
        Route(
            "/attempts/{id}", authenticated(retrieve("attempts", shapes.attempt)), methods=["GET"]
        ),
    ]
    return Starlette(
        routes=[
            *routes(readiness),
            Mount(f"/{API_VERSION}", routes=versioned),
            Route(
                "/mock/{path:path}",
                mock_destination,
                methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            ),
        ],
        lifespan=lifespan,
    )


def transformation_fields(data: dict[str, Any]) -> dict[str, Any]:
    code, env = data.get("code"), data.get("env") or {}
    if not isinstance(code, str) or not code.strip():
        raise ApiError(422, "UNPROCESSABLE_ENTITY", "'code' must be the JavaScript source.")
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise ApiError(422, "UNPROCESSABLE_ENTITY", "'env' must be an object of strings.")
    return {"name": required_text(data, "name"), "code": code, "env": env}


def sample_message(sample: Any) -> Message:
    """A request object as Hookdeck's run endpoint takes it, as a message."""
    if sample is None:
        sample = {}
    if not isinstance(sample, dict):
        raise ApiError(422, "UNPROCESSABLE_ENTITY", "'request' must be an object.")
    headers = sample.get("headers") or {}
    if not isinstance(headers, dict):
        raise ApiError(422, "UNPROCESSABLE_ENTITY", "'request.headers' must be an object.")
    return Message(
        {str(k): str(v) for k, v in headers.items()},
        body_bytes(sample.get("body")),
        str(sample.get("path") or "/"),
        str(sample.get("query") or ""),
    )


def source_fields(data: dict[str, Any]) -> dict[str, Any]:
    try:
        verification = check_verification(data.get("verification"))
    except InvalidVerification as exc:
        raise ApiError(422, "UNPROCESSABLE_ENTITY", str(exc)) from exc
    return {
        "name": required_text(data, "name"),
        "description": data.get("description"),
        "allowed_http_methods": data.get("allowed_http_methods"),
        "verification": verification,
    }


RATE_LIMIT_PERIODS = ("second", "minute", "hour", "concurrent")


def destination_fields(data: dict[str, Any]) -> dict[str, Any]:
    url = required_text(data, "url")
    if not url.startswith(("http://", "https://")):
        raise ApiError(422, "UNPROCESSABLE_ENTITY", "'url' must be an http:// or https:// URL.")
    return {
        "name": required_text(data, "name"),
        "description": data.get("description"),
        "url": url,
        "http_method": data.get("http_method"),
        "path_forwarding_disabled": bool(data.get("path_forwarding_disabled", False)),
        **rate_limit_fields(data),
        "auth_method": auth_method_field(data.get("auth_method")),
    }


def rate_limit_fields(data: dict[str, Any]) -> dict[str, Any]:
    limit, period = data.get("rate_limit"), data.get("rate_limit_period")
    if limit is None:
        return {"rate_limit": None, "rate_limit_period": None}
    if not isinstance(limit, int) or limit < 1:
        raise ApiError(422, "UNPROCESSABLE_ENTITY", "'rate_limit' must be a whole number >= 1.")
    if period not in RATE_LIMIT_PERIODS:
        raise ApiError(
            422,
            "UNPROCESSABLE_ENTITY",
            f"'rate_limit_period' must be one of {', '.join(RATE_LIMIT_PERIODS)}.",
        )
    return {"rate_limit": limit, "rate_limit_period": period}


def auth_method_field(value: Any) -> dict[str, Any] | None:
    """Checked by building credentials once, so a bad config is refused now, not later."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ApiError(422, "UNPROCESSABLE_ENTITY", "'auth_method' must be an object.")
    placeholder = "validation-only"  # stands in for the project secret and OAuth token
    try:
        credentials(
            value,
            b"",
            event_id="evt_check",
            timestamp=0,
            project_secret=placeholder,
            header_prefix="x-",
            oauth_token=placeholder,
        )
    except (InvalidAuthConfig, InvalidSigningConfig) as exc:
        raise ApiError(422, "UNPROCESSABLE_ENTITY", str(exc)) from exc
    return value


def main() -> None:
    settings = load()
    start("api", settings)
    serve_app(build_app(settings), settings, settings.api_port)
