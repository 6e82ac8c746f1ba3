"""The API's handlers called by name, with a context made here: no broker, no
ClickHouse (a store of rows given by the test stands in where one is read)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message

from hookhouse.api.context import Context
from hookhouse.api.endpoint import authenticated
from hookhouse.api.fields import ApiError
from hookhouse.api.handlers import bulk, events, metrics, notifications, resources, transformations
from hookhouse.api.mock import MockDestination
from hookhouse.api.store import Store
from hookhouse.common.domain.config import hash_api_key, record_key
from hookhouse.common.settings import Settings

A, B = "prj_a", "prj_b"
STAMP = "2024-05-01T10:00:00.000Z"


class Rows(Store):
    """ClickHouse as rows held here, by table."""

    def __init__(self, settings: Settings, tables: dict[str, list[dict[str, Any]]]) -> None:
        super().__init__(settings)
        self.tables = tables

    def run(self, sql: str, parameters: dict[str, Any]) -> list[dict[str, Any]]:
        pytest.fail(f"the handler ran a query: {sql}")

    async def rows_by_id(
        self, table: str, project_id: str, ids: list[str]
    ) -> dict[str, dict[str, Any]]:
        rows = self.tables.get(table, [])
        return {r["id"]: r for r in rows if r["project_id"] == project_id and r["id"] in ids}


@pytest.fixture
def ctx() -> Iterator[Context]:
    settings = Settings()
    made = Context.of(settings)
    yield replace(made, store=Rows(settings, {}))
    made.javascript.close()


def stored(ctx: Context, kind: str, resource: dict[str, Any]) -> dict[str, Any]:
    """``resource`` as the config log would have it applied."""
    full = {"project_id": A, "created_at": STAMP, "updated_at": STAMP, **resource}
    assert ctx.state.apply(record_key(kind, full["id"]), orjson.dumps(full))
    return full


def request(
    method: str = "GET",
    query: dict[str, str] | None = None,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    **path_params: str,
) -> Request:
    scope = {
        "type": "http",
        "method": method,
        "path": "/",
        "query_string": urlencode(query or {}).encode(),
        "headers": [(k.encode(), v.encode()) for k, v in (headers or {}).items()],
        "path_params": path_params,
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(scope, receive)


Call = Coroutine[Any, Any, Response]


def refused(call: Call, status: int, code: str) -> str:
    with pytest.raises(ApiError) as raised:
        asyncio.run(call)
    assert (raised.value.status, raised.value.code) == (status, code), raised.value.message
    return raised.value.message


def answer(call: Call) -> Any:
    response = asyncio.run(call)
    assert response.status_code == 200
    return orjson.loads(bytes(response.body))


def test_another_projects_resource_does_not_exist_for_the_caller(ctx: Context) -> None:
    source = stored(ctx, "source", {"id": "src_1", "project_id": B, "name": "shop"})
    kind = ctx.kinds["source"]
    call = resources.retrieve(ctx, request(id=source["id"]), A, kind=kind)
    assert refused(call, 404, "NOT_FOUND") == "No source with id src_1."
    assert answer(resources.retrieve(ctx, request(id=source["id"]), B, kind=kind))["id"] == "src_1"


def test_a_source_in_use_is_not_deleted(ctx: Context) -> None:
    stored(ctx, "source", {"id": "src_1", "name": "shop"})
    stored(ctx, "destination", {"id": "des_1", "name": "app", "url": "https://example.com"})
    connection = {"id": "web_1", "name": "c", "source_id": "src_1", "destination_id": "des_1"}
    stored(ctx, "connection", connection)
    call = resources.delete(ctx, request("DELETE", id="src_1"), A, kind=ctx.kinds["source"])
    assert "web_1" in refused(call, 422, "RESOURCE_IN_USE")
    assert ctx.state.get("source", "src_1") is not None


def test_a_bad_list_query_is_a_422(ctx: Context) -> None:
    call = resources.list_resources(
        ctx, request(query={"limit": "0"}), A, kind=ctx.kinds["destination"]
    )
    refused(call, 422, "UNPROCESSABLE_ENTITY")


def test_a_bulk_retry_is_found_only_under_its_own_type(ctx: Context) -> None:
    job = {
        "id": "bch_1",
        "type": "events",
        "query": {},
        "estimated_count": 0,
        "processed_batch": 0,
        "completed_count": 0,
        "failed_count": 0,
        "in_progress": False,
    }
    stored(ctx, "bulk_retry", job)
    assert answer(bulk.get_job(ctx, request(id="bch_1"), A, name="events"))["type"] == "events"
    call = bulk.get_job(ctx, request(id="bch_1"), A, name="requests")
    assert refused(call, 404, "NOT_FOUND") == "No bulk retry of requests with id bch_1."


def test_a_notification_setting_is_checked_before_it_is_written(ctx: Context) -> None:
    shown = answer(notifications.get_setting(ctx, request(), A))
    assert shown == {"enabled": False, "topics": [], "source_id": None}
    body = orjson.dumps({"enabled": True, "source_id": "src_of_b"})
    stored(ctx, "source", {"id": "src_of_b", "project_id": B, "name": "theirs"})
    call = notifications.put_setting(ctx, request("PUT", body=body), A)
    assert "your sources" in refused(call, 422, "UNPROCESSABLE_ENTITY")


def test_list_and_metrics_queries_are_checked_before_clickhouse_is_asked(ctx: Context) -> None:
    forged = request(query={"next": "bm90IGEgY3Vyc29y"})
    refused(events.list_events(ctx, forged, A), 422, "UNPROCESSABLE_ENTITY")
    coarse = request(query={"granularity": "1 hour"})
    refused(metrics.measured(ctx, coarse, A, kind="requests"), 422, "UNPROCESSABLE_ENTITY")


def test_an_event_whose_data_is_not_stored_yet_is_a_409(ctx: Context) -> None:
    event = {"id": "evt_1", "project_id": A, "request_id": "req_1"}
    ctx = replace(ctx, store=Rows(ctx.settings, {"events": [event]}))
    refused(events.get_event(ctx, request(id="evt_1"), A), 409, "EVENT_DATA_UNAVAILABLE")
    refused(events.get_event(ctx, request(id="evt_1"), B), 404, "NOT_FOUND")


def test_a_transformation_run_needs_code(ctx: Context) -> None:
    call = transformations.run(ctx, request("PUT", body=b"{}"), A)
    assert refused(call, 422, "UNPROCESSABLE_ENTITY") == (
        "'code' must be the JavaScript source, or give 'transformation_id'."
    )


def test_a_handler_gets_the_keys_project_and_its_refusal_is_answered_in_shape(
    ctx: Context,
) -> None:
    stored(ctx, "api_key", {"id": "key_1", "name": "admin", "key_hash": hash_api_key("hh_k")})
    seen: list[str] = []

    async def refusing(_: Context, __: Request, project_id: str) -> Response:
        seen.append(project_id)
        raise ApiError(409, "SOMETHING", "Not now.")

    anonymous = asyncio.run(authenticated(ctx, refusing, request()))
    assert anonymous.status_code == 401 and not seen
    keyed = request(headers={"authorization": "Bearer hh_k"})
    response = asyncio.run(authenticated(ctx, refusing, keyed))
    assert seen == [A]
    assert response.status_code == 409
    body = {"handled": True, "status": 409, "code": "SOMETHING", "message": "Not now."}
    assert orjson.loads(bytes(response.body)) == body


def test_the_mock_destination_accepts_anything() -> None:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    posted = request("POST", body=b"anything")
    asyncio.run(MockDestination()(posted.scope, posted.receive, send))
    assert sent[0]["status"] == 200
    assert orjson.loads(sent[1]["body"]) == {"status": "ok", "received": True}
