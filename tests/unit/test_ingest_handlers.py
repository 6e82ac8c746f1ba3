"""Ingest's routes are named methods of :class:`Ingest`: each answers from the
configuration it is given, and what needs no broker is tested without one."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

import orjson

from hookhouse.common.configlog import ConfigLog
from hookhouse.common.domain.config import hash_api_key, record_key
from hookhouse.common.settings import Settings
from hookhouse.ingest.app import Ingest

KEY_HASH = hash_api_key("hh_k")


async def nowhere(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("not a webhook route")


def ingest(ready: bool = True) -> Ingest:
    settings = Settings()
    config = ConfigLog(settings)  # never started: its state is what the test applies
    x = {"type": "twitter", "configs": {"api_key": "ck"}}
    resources: list[tuple[str, dict[str, Any]]] = [
        ("source", {"id": "src_1", "project_id": "tm_1", "name": "shop"}),
        ("source", {"id": "src_x", "project_id": "tm_1", "name": "x", "verification": x}),
        (
            "api_key",
            {"id": "key_1", "project_id": "tm_1", "name": "k", "key_hash": hash_api_key("hh_k")},
        ),
    ]
    for kind, resource in resources:
        config.state.apply(record_key(kind, resource["id"]), orjson.dumps(resource))
    if ready:
        config._caught_up.set()
    return Ingest(settings, config, nowhere)


def call(
    app: Ingest,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]] | None = None,
    query: bytes = b"",
) -> tuple[int, dict[str, Any]]:
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": headers or [],
    }
    asyncio.run(app(scope, receive, send))
    body = sent[1]["body"]
    return sent[0]["status"], orjson.loads(body) if body else {}


def test_an_unknown_source_is_a_404_with_its_code() -> None:
    assert call(ingest(), "POST", "/e/src_nope") == (
        404,
        {"code": "SOURCE_NOT_FOUND", "message": "No source with id src_nope."},
    )


def test_nothing_is_accepted_before_the_configuration_is_read() -> None:
    status, body = call(ingest(ready=False), "POST", "/e/src_1")
    assert (status, body["code"]) == (503, "NOT_READY")


def test_a_head_is_answered_without_being_stored() -> None:
    assert call(ingest(), "HEAD", "/e/src_1") == (200, {})


def test_an_unsigned_handshake_is_answered_without_being_stored() -> None:
    """X's CRC GET: answered from the source's config; with no producer to store it,
    anything but an answer here would have raised."""
    status, body = call(ingest(), "GET", "/e/src_x", query=b"crc_token=abc")
    assert status == 200 and body["response_token"].startswith("sha256=")


def test_the_publish_api_wants_post_a_key_and_a_source_name() -> None:
    app = ingest()
    assert call(app, "GET", "/v1/publish")[0] == 405
    assert call(app, "POST", "/v1/publish", [(b"authorization", b"Bearer wrong")])[0] == 401
    key = [(b"authorization", b"Bearer hh_k")]
    assert call(app, "POST", "/v1/publish", key)[1]["code"] == "SOURCE_NAME_REQUIRED"
    named = [*key, (b"x-hookdeck-source-name", b"other")]
    assert call(app, "POST", "/v1/publish", named)[1]["code"] == "SOURCE_NOT_FOUND"


def test_the_url_a_provider_signed_is_the_public_url_with_the_path_as_it_arrived() -> None:
    app = ingest()
    app.public_url = "https://hooks.example.com"
    scope = {"path": "/e/src_1/a b", "raw_path": b"/e/src_1/a%20b", "query_string": b"x=1&y=%2F"}
    assert app.url_of(scope, None) == "https://hooks.example.com/e/src_1/a%20b?x=1&y=%2F"
    assert (
        app.url_of({**scope, "query_string": b""}, None)
        == "https://hooks.example.com/e/src_1/a%20b"
    )
    # Under a custom domain, the URL its source shows: https and that host.
    under = app.url_of(scope, {"hostname": "in.example.org"})
    assert under == "https://in.example.org/e/src_1/a%20b?x=1&y=%2F"
