"""The whole stack, started as a newcomer starts it (`hookhouse up`), driven over HTTP."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import clickhouse_connect
import httpx
import pytest
from clickhouse_connect.driver.exceptions import DatabaseError
from confluent_kafka import Producer

from hookhouse.common.clock import now_ms
from hookhouse.common.domain.times import iso_ms
from hookhouse.stack.supervisor import pid_alive, read_env
from tests.e2e.running import (
    PORTS,
    Stack,
    api,
    connect,
    service_pids,
    stored,
    topic_values,
    wait_for,
)
from tests.receiver import Answer, Received, Receiver
from tests.stack import REPO

# Inside the ClickHouse tables' retention (a TTL), whatever day the suite runs.
CREATED = iso_ms(now_ms())

pytestmark = pytest.mark.e2e


def test_stack_env_and_status(stack: Stack) -> None:
    env = read_env(stack.home / "stack.env")
    assert set(env) == {
        "HOOKHOUSE_INGEST_URL",
        "HOOKHOUSE_API_URL",
        "HOOKHOUSE_API_KEY",
        "HOOKHOUSE_KAFKA_BOOTSTRAP",
        "HOOKHOUSE_CLICKHOUSE_URL",
        "HOOKHOUSE_CLICKHOUSE_READER_URL",
        "HOOKHOUSE_CONFIG_KEYS",
    }
    assert env["HOOKHOUSE_CONFIG_KEYS"] == (stack.home / "config.key").read_text().strip()
    assert env["HOOKHOUSE_INGEST_URL"] == "http://127.0.0.1:27700"
    reader = clickhouse_connect.get_client(dsn=env["HOOKHOUSE_CLICKHOUSE_READER_URL"])
    assert int(str(reader.command("SELECT count() FROM hookhouse.events FINAL"))) >= 0
    with pytest.raises(DatabaseError):  # analysts read; they cannot write
        reader.command("TRUNCATE TABLE hookhouse.events")
    reader.close()
    banner = stack.output.read_text()
    assert env["HOOKHOUSE_API_KEY"] in banner and "curl -X POST" in banner
    status = subprocess.run(
        [sys.executable, "-m", "hookhouse.cli", "status"],
        env=stack.env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert status.returncode == 0, status.stdout
    for name in ("ingest", "api", "router", "deliverer", "sink", "kafka", "clickhouse"):
        assert name in status.stdout
    # The demo connection's destination is the API's /mock itself, not a redirect to /mock/.
    mock = httpx.post(f"{env['HOOKHOUSE_API_URL']}/mock", json={}, follow_redirects=False)
    assert mock.status_code == 200 and mock.json()["received"] is True
    for port in (27705, 27701, 27702, 27703, 27704):  # ingest's metrics port, then the others
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics")
        assert metrics.status_code == 200 and "hookhouse_" in metrics.text


def test_a_taken_port_is_named_with_its_setting(stack: Stack, tmp_path: Path) -> None:
    env = {**stack.env, "HOOKHOUSE_HOME": str(tmp_path / "other")}
    second = subprocess.run(
        [sys.executable, "-m", "hookhouse.cli", "up"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 2
    assert "already in use" in second.stderr and "HOOKHOUSE_" in second.stderr


def test_webhook_flows_end_to_end(stack: Stack, receiver: Receiver) -> None:
    connection = connect(stack, receiver, "orders")
    source_url = connection["source"]["url"]
    body = b'{"id": "ord_1", "amount": 4200, "note": "caf\xc3\xa9"}'
    answer = httpx.post(
        f"{source_url}/orders/created?debug=1",
        content=body,
        headers={"content-type": "application/json", "x-shop-signature": "abc123"},
    )
    assert answer.status_code == 200, answer.text
    request_id = answer.json()["request_id"]

    got = wait_for(
        lambda: [
            r for r in receiver.snapshot() if r.headers.get("x-hookhouse-request-id") == request_id
        ],
        60,
    )
    assert len(got) == 1
    delivered = got[0]
    assert delivered.body == body
    assert delivered.path == "/hooks/orders/created?debug=1"
    assert delivered.headers["content-type"] == "application/json"
    assert delivered.headers["x-shop-signature"] == "abc123"
    event_id = delivered.headers["x-hookhouse-event-id"]
    assert delivered.headers["idempotency-key"] == event_id
    assert delivered.headers["x-hookhouse-attempt-count"] == "1"
    assert delivered.headers["x-hookhouse-connection-id"] == connection["id"]

    with api(stack) as client:

        def attempts() -> list[dict[str, Any]]:
            models: list[dict[str, Any]] = client.get(
                "/attempts", params={"event_id": event_id}
            ).json()["models"]
            return models

        attempt = wait_for(attempts, 60)[0]
        assert attempt["status"] == "SUCCESSFUL" and attempt["response_status"] == 200
        assert attempt["trigger"] == "INITIAL" and attempt["body"] == '{"ok":true}'
        event = stored(client, f"/events/{event_id}")
        assert event["request_id"] == request_id and event["webhook_id"] == connection["id"]
        wait_for(lambda: client.get(f"/events/{event_id}").json()["status"] == "SUCCESSFUL", 30)
        request = client.get(f"/requests/{request_id}").json()
        assert request["events_count"] == 1 and request["rejection_cause"] is None


def test_bad_input_gets_clear_errors(stack: Stack, receiver: Receiver) -> None:
    env = read_env(stack.home / "stack.env")
    source = connect(stack, receiver, "limits")["source"]
    too_large = httpx.post(source["url"], content=b"x" * 70_000)
    assert too_large.status_code == 413 and too_large.json()["code"] == "PAYLOAD_TOO_LARGE"
    with api(stack) as client:

        def rejected() -> list[dict[str, Any]]:
            models: list[dict[str, Any]] = client.get(
                "/requests",
                params={"source_id": source["id"], "rejection_cause": "PAYLOAD_TOO_LARGE"},
            ).json()["models"]
            return models

        assert wait_for(rejected, 30)[0]["events_count"] == 0
    missing = httpx.post(f"{env['HOOKHOUSE_INGEST_URL']}/e/src_nope", content=b"{}")
    assert missing.status_code == 404 and missing.json()["code"] == "SOURCE_NOT_FOUND"
    options = httpx.request("OPTIONS", f"{source['url']}/a/path")
    assert (options.status_code, options.json()["code"]) == (405, "UNSUPPORTED_HTTP_METHOD")
    unauthenticated = httpx.get(f"{env['HOOKHOUSE_API_URL']}/2024-03-01/events")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["code"] == "UNAUTHORIZED"
    with api(stack) as client:
        invalid = client.post("/destinations", content=b"{not json")
        assert invalid.status_code == 400 and invalid.json()["code"] == "INVALID_JSON"
        no_url = client.post("/destinations", json={"name": "x"})
        assert no_url.status_code == 422 and "url" in no_url.json()["message"]


def test_sources_refuse_what_they_do_not_take_and_record_why(
    stack: Stack, receiver: Receiver
) -> None:
    made = connect(stack, receiver, "picky")
    source = made["source"]
    with api(stack) as client:
        changed = client.put(
            f"/sources/{source['id']}",
            json={
                "allowed_http_methods": ["POST"],
                "custom_response": {"content_type": "text", "body": "thanks"},
            },
        )
        assert changed.status_code == 200, changed.text
    json_type = {"content-type": "application/json"}
    refusals = {
        "UNSUPPORTED_HTTP_METHOD": httpx.put(source["url"], content=b"{}", headers=json_type),
        "UNSUPPORTED_CONTENT_TYPE": httpx.post(
            source["url"], content=b"--x", headers={"content-type": "multipart/form-data"}
        ),
        "UNPARSABLE_JSON": httpx.post(source["url"], content=b"{nope", headers=json_type),
    }
    statuses = {cause: (r.status_code, r.json()["code"]) for cause, r in refusals.items()}
    assert statuses == {
        "UNSUPPORTED_HTTP_METHOD": (405, "UNSUPPORTED_HTTP_METHOD"),
        "UNSUPPORTED_CONTENT_TYPE": (415, "UNSUPPORTED_CONTENT_TYPE"),
        "UNPARSABLE_JSON": (400, "UNPARSABLE_JSON"),
    }
    accepted = httpx.post(source["url"], content=b'{"ok": 1}', headers=json_type)
    assert (accepted.status_code, accepted.text) == (200, "thanks")
    assert accepted.headers["content-type"].startswith("text/plain")
    with api(stack) as client:
        assert client.put(f"/sources/{source['id']}/disable").status_code == 200
        disabled = httpx.post(source["url"], content=b"{}", headers=json_type)
        assert (disabled.status_code, disabled.json()["code"]) == (403, "SOURCE_DISABLED")
        for cause in [*refusals, "SOURCE_DISABLED"]:

            def recorded(cause: str = cause) -> list[dict[str, Any]]:
                params = {"source_id": source["id"], "rejection_cause": cause}
                models: list[dict[str, Any]] = client.get("/requests", params=params).json()[
                    "models"
                ]
                return models

            listed = wait_for(recorded, 30)
            assert listed[0]["rejection_cause"] == cause


def test_internal_services_publish_with_an_api_key(stack: Stack, receiver: Receiver) -> None:
    env = read_env(stack.home / "stack.env")
    connect(stack, receiver, "published")
    publish = f"{env['HOOKHOUSE_INGEST_URL']}/v1/publish"
    key = {"Authorization": f"Bearer {env['HOOKHOUSE_API_KEY']}"}
    sent = httpx.post(
        publish,
        json={"type": "invoice.paid"},
        headers={**key, "X-Hookdeck-Source-Name": "published-source"},
    )
    assert sent.status_code == 200, sent.text
    request_id = sent.json()["request_id"]
    arrived = wait_for(
        lambda: [
            r for r in receiver.snapshot() if r.headers.get("x-hookhouse-request-id") == request_id
        ]
    )[0]
    assert json.loads(arrived.body) == {"type": "invoice.paid"}
    assert "authorization" not in arrived.headers  # the project's key is never stored
    no_key = httpx.post(publish, json={}, headers={"X-Hookdeck-Source-Name": "published-source"})
    assert (no_key.status_code, no_key.json()["code"]) == (401, "UNAUTHORIZED")
    no_name = httpx.post(publish, json={}, headers=key)
    assert (no_name.status_code, no_name.json()["code"]) == (422, "SOURCE_NAME_REQUIRED")
    unknown = httpx.post(publish, json={}, headers={**key, "X-Hookdeck-Source-Name": "nope"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "SOURCE_NOT_FOUND")
    not_post = httpx.get(publish, headers={**key, "X-Hookdeck-Source-Name": "published-source"})
    assert (not_post.status_code, not_post.json()["code"]) == (405, "UNSUPPORTED_HTTP_METHOD")


def test_rules_transform_filter_and_deduplicate(stack: Stack, receiver: Receiver) -> None:
    code = """
    addHandler('transform', (request, context) => {
      console.log('type', request.body.type);
      if (request.body.type === 'boom') throw new Error('cannot handle boom');
      request.body.tenant = context.env.TENANT;
      request.headers['x-tenant'] = context.env.TENANT;
      return request;
    });
    """
    with api(stack) as client:
        tried = client.put(
            "/transformations/run",
            json={"code": code, "env": {"TENANT": "t1"}, "request": {"body": {"type": "a"}}},
        ).json()
        assert tried["request"]["body"] == {"type": "a", "tenant": "t1"}
        assert tried["console"] == [{"type": "log", "message": "type a"}]
        assert tried["log_level"] == "info"
        bad_rule = client.post(
            "/connections",
            json={
                "name": "bad",
                "source": {"name": "bad"},
                "destination": {"name": "bad", "url": f"{receiver.url}/x"},
                "rules": [{"type": "filter", "body": {"n": {"$regex": "x"}}}],
            },
        )
        assert bad_rule.status_code == 422 and "$regex" in bad_rule.json()["message"]
    rules: list[dict[str, Any]] = [
        {
            "type": "transform",
            "transformation": {"name": "tenant", "code": code, "env": {"TENANT": "acme"}},
        },
        {"type": "filter", "body": {"type": {"$in": ["order.created", "boom"]}}},
        {"type": "deduplicate", "window": 60_000, "include_fields": ["body.id"]},
    ]
    source_url = connect(stack, receiver, "rules", rules)["source"]["url"]
    sent = {}
    for name, payload in [
        ("kept", {"id": 1, "type": "order.created"}),
        ("filtered", {"id": 2, "type": "order.deleted"}),
        ("duplicate", {"id": 1, "type": "order.created", "retry": True}),
        ("failed", {"id": 3, "type": "boom"}),
    ]:
        answer = httpx.post(source_url, json=payload)
        assert answer.status_code == 200
        sent[name] = answer.json()["request_id"]
    kept = wait_for(
        lambda: [
            r
            for r in receiver.snapshot()
            if r.headers.get("x-hookhouse-request-id") == sent["kept"]
        ]
    )[0]
    assert json.loads(kept.body) == {"id": 1, "type": "order.created", "tenant": "acme"}
    assert kept.headers["x-tenant"] == "acme"
    with api(stack) as client:
        # The event keeps what it delivered (the transformed payload).
        data = wait_for(
            lambda: (
                client.get(f"/events/{kept.headers['x-hookhouse-event-id']}").json().get("data")
            ),
            30,
        )
        assert data["body"] == {"id": 1, "type": "order.created", "tenant": "acme"}

        def ignored_of(request_id: str) -> list[dict[str, Any]]:
            models: list[dict[str, Any]] = client.get(
                f"/requests/{request_id}/ignored_events"
            ).json()["models"]
            return models

        for name, cause in [
            ("filtered", "FILTERED"),
            ("duplicate", "DUPLICATE"),
            ("failed", "TRANSFORMATION_FAILED"),
        ]:
            ignored = wait_for(functools.partial(ignored_of, sent[name]), 30)
            assert [i["cause"] for i in ignored] == [cause]
            if cause == "TRANSFORMATION_FAILED":
                assert "cannot handle boom" in ignored[0]["meta"]["error"]
                assert ignored[0]["meta"]["logs"] == ["type boom"]
        request = stored(client, f"/requests/{sent['filtered']}")
        assert (request["events_count"], request["ignored_count"]) == (0, 1)
        transformation = client.get("/transformations").json()["models"][0]

        def executions() -> list[dict[str, Any]]:
            models: list[dict[str, Any]] = client.get(
                f"/transformations/{transformation['id']}/executions", params={"limit": 10}
            ).json()["models"]
            return models if len(models) == len(sent) else []

        runs = {e["request_id"]: e for e in wait_for(executions, 30)}
        assert runs[sent["kept"]]["status"] == "SUCCESSFUL"
        assert runs[sent["failed"]]["status"] == "FAILED"
        assert runs[sent["failed"]]["logs"] == [{"type": "log", "message": "type boom"}]
        assert runs[sent["failed"]]["log_level"] == "error"
        one = client.get(
            f"/transformations/{transformation['id']}/executions/{runs[sent['failed']]['id']}"
        )
        assert one.status_code == 200 and one.json() == runs[sent["failed"]]
        elsewhere = client.get(f"/transformations/trs_other/executions/{one.json()['id']}")
        assert elsewhere.status_code == 404
    seen = {r.headers.get("x-hookhouse-request-id") for r in receiver.snapshot()}
    assert not seen & {sent["filtered"], sent["duplicate"], sent["failed"]}


def test_bad_records_on_requests_are_dead_lettered_and_the_partition_moves_on(
    stack: Stack, receiver: Receiver
) -> None:
    connection = connect(stack, receiver, "direct")
    source_id = connection["source"]["id"]
    env = read_env(stack.home / "stack.env")
    good = {
        "id": "req_direct_after_garbage",
        "project_id": connection["team_id"],
        "source_id": source_id,
        "received_at": CREATED,
        "method": "POST",
        "path": "",
        "query": "",
        "headers": {"content-type": "application/json"},
        "body": "eyJvayI6IHRydWV9",
    }
    producer = Producer({"bootstrap.servers": env["HOOKHOUSE_KAFKA_BOOTSTRAP"]})
    bad = [b"not json", json.dumps({**good, "id": "req_bad", "method": "TRACE"}).encode()]
    for value in [*bad, json.dumps(good).encode()]:
        producer.produce("hookhouse.requests", value, key=source_id)  # one partition
    assert producer.flush(10) == 0
    wait_for(
        lambda: (
            "req_direct_after_garbage"
            in {r.headers.get("x-hookhouse-request-id") for r in receiver.snapshot()}
        )
    )
    letters = [
        letter
        for letter in topic_values(env["HOOKHOUSE_KAFKA_BOOTSTRAP"], "hookhouse.dlq")
        if letter["stage"] == "router" and base64.b64decode(letter["value"]) in bad
    ]
    assert [letter["reason"] for letter in letters] == ["invalid_request"] * 2, letters
    messages = sorted(letter["details"]["message"] for letter in letters)
    assert messages[0].startswith("not JSON")
    assert 'method: "TRACE" is not one of' in messages[1]


def test_a_failed_event_is_notified_and_retried_by_hand(stack: Stack, receiver: Receiver) -> None:
    fixed = threading.Event()
    before = receiver.behaviour

    def broken_until_fixed(got: Received) -> Answer:
        if "/manual" in got.path and not fixed.is_set():
            return Answer(status=500, body=b'{"error":"down"}')
        return before(got)

    receiver.behaviour = broken_until_fixed
    try:
        with api(stack) as client:
            made = client.post(
                "/connections",
                json={
                    "name": "manual",
                    "source": {"name": "manual"},
                    "destination": {"name": "manual", "url": f"{receiver.url}/manual"},
                },
            ).json()
            alerts = connect(stack, receiver, "alerts", path="/alerts")
            notify = {
                "enabled": True,
                "topics": ["issue.opened"],
                "source_id": alerts["source"]["id"],
            }
            assert client.put("/notifications/webhooks", json=notify).status_code == 200
            request_id = httpx.post(made["source"]["url"], json={"order": 7}).json()["request_id"]

            def failed() -> list[dict[str, Any]]:
                models: list[dict[str, Any]] = client.get(
                    "/events", params={"request_id": request_id, "status": "FAILED"}
                ).json()["models"]
                return models

            event = wait_for(failed, 60)[0]
            assert event["response_status"] == 500
            detail = client.get(f"/events/{event['id']}").json()
            assert detail["data"]["body"] == {"order": 7}

            def notified() -> list[dict[str, Any]]:
                bodies = [json.loads(r.body) for r in receiver.snapshot() if "/alerts" in r.path]
                return [
                    b
                    for b in bodies
                    if b["topic"] == "issue.opened"
                    and b["issue"]["aggregation_keys"]["webhook_id"] == [made["id"]]
                ]

            (notice,) = wait_for(notified, 60)  # through the alerts source and its connection
            assert notice["issue"]["aggregation_keys"]["response_status"] == [500]
            fixed.set()
            answer = client.post(f"/events/{event['id']}/retry")
            assert answer.status_code == 200 and answer.json()["event"]["status"] == "QUEUED"

            def manual() -> list[Received]:
                return [
                    r
                    for r in receiver.snapshot()
                    if r.headers.get("x-hookhouse-event-id") == event["id"]
                    and r.headers.get("x-hookhouse-attempt-trigger") == "MANUAL"
                ]

            second = wait_for(manual, 60)[0]
            assert second.headers["x-hookhouse-attempt-count"] == "2"
            assert json.loads(second.body) == {"order": 7}
            wait_for(
                lambda: client.get(f"/events/{event['id']}").json()["status"] == "SUCCESSFUL", 30
            )
            # The request retried: a new event of its own, delivered as it was received.
            replay = client.post(f"/requests/{request_id}/retry", json={})
            assert replay.status_code == 200, replay.text
            (new_event,) = replay.json()["events"]
            assert new_event["id"] != event["id"]
            wait_for(
                lambda: any(
                    r.headers.get("x-hookhouse-event-id") == new_event["id"]
                    for r in receiver.snapshot()
                ),
                60,
            )
            missing = client.post("/events/evt_nope/retry")
            assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"
    finally:
        receiver.behaviour = before


def test_verified_sources_refuse_bad_signatures_and_mark_good_ones(
    stack: Stack, receiver: Receiver
) -> None:
    secret = "gh-secret-1234"
    with api(stack) as client:
        made = client.post(
            "/connections",
            json={
                "name": "github",
                "source": {
                    "name": "github",
                    "verification": {"type": "github", "configs": {"webhook_secret_key": secret}},
                },
                "destination": {"name": "github", "url": f"{receiver.url}/github"},
            },
        )
        assert made.status_code == 200, made.text
        source = made.json()["source"]
        assert source["verification"]["configs"]["webhook_secret_key"] == "****1234"
        bad_config = client.post(
            "/sources", json={"name": "x", "verification": {"type": "hmac", "configs": {}}}
        )
        assert bad_config.status_code == 422 and "webhook_secret_key" in bad_config.text
    body = b'{"action": "opened"}'
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    forged = httpx.post(source["url"], content=body, headers={"x-hub-signature-256": "sha256=00"})
    assert forged.status_code == 401 and forged.json()["code"] == "VERIFICATION_FAILED"
    good = httpx.post(source["url"], content=body, headers={"x-hub-signature-256": signature})
    assert good.status_code == 200
    request_id = good.json()["request_id"]
    arrived = wait_for(
        lambda: [
            r for r in receiver.snapshot() if r.headers.get("x-hookhouse-request-id") == request_id
        ]
    )[0]
    assert arrived.headers["x-hookhouse-verified"] == "true"
    with api(stack) as client:

        def rejected() -> list[dict[str, Any]]:
            models: list[dict[str, Any]] = client.get(
                "/requests",
                params={"source_id": source["id"], "rejection_cause": "VERIFICATION_FAILED"},
            ).json()["models"]
            return models

        assert wait_for(rejected, 30)[0]["events_count"] == 0
        assert stored(client, f"/requests/{request_id}")["verified"]


def test_provider_handshakes_are_answered_by_ingest(stack: Stack, receiver: Receiver) -> None:
    """Slack's signed url_verification gets its challenge back and is stored like any
    request; X's unsigned CRC GET gets its response token and is not stored."""
    secret = "slack-signing-1234"
    with api(stack) as client:
        made = client.post(
            "/connections",
            json={
                "name": "slack",
                "source": {
                    "name": "slack",
                    "verification": {"type": "slack", "configs": {"webhook_secret_key": secret}},
                },
                "destination": {"name": "slack", "url": f"{receiver.url}/slack"},
            },
        )
        assert made.status_code == 200, made.text
        twitter = client.post(
            "/sources",
            json={"name": "x", "verification": {"type": "twitter", "configs": {"api_key": "ck"}}},
        ).json()
    url = made.json()["source"]["url"]
    body = b'{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",'
    body += b'"type":"url_verification"}'
    stamp = str(now_ms() // 1000)
    signed = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256)
    headers = {"x-slack-request-timestamp": stamp, "x-slack-signature": "v0=" + signed.hexdigest()}
    answered = httpx.post(url, content=body, headers=headers)
    assert answered.status_code == 200
    assert answered.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    forged = httpx.post(url, content=body, headers={**headers, "x-slack-signature": "v0=00"})
    assert forged.status_code == 401  # no challenge answered without the signature
    crc = httpx.get(twitter["url"], params={"crc_token": "abc"})
    token = base64.b64encode(hmac.new(b"ck", b"abc", hashlib.sha256).digest()).decode()
    assert crc.json() == {"response_token": "sha256=" + token}
    with api(stack) as client:

        def requests_of(source_id: str) -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = client.get(
                "/requests", params={"source_id": source_id, "status": "accepted"}
            ).json()["models"]
            return found

        stored_one = wait_for(lambda: requests_of(made.json()["source"]["id"]), 30)
        assert stored_one[0]["verified"] is True
        assert requests_of(twitter["id"]) == []


def test_pause_holds_and_unpause_releases_in_order(stack: Stack, receiver: Receiver) -> None:
    first, second = (connect(stack, receiver, name) for name in ("paused-1", "paused-2"))
    sent: dict[str, list[str]] = {first["id"]: [], second["id"]: []}
    with api(stack) as client:
        for connection in (first, second):
            paused = client.put(f"/connections/{connection['id']}/pause").json()
            assert paused["paused_at"] is not None
        for n in range(8):
            for connection in (first, second):
                answer = httpx.post(connection["source"]["url"], json={"n": n})
                assert answer.status_code == 200
                sent[connection["id"]].append(answer.json()["request_id"])

        def held() -> bool:
            events = client.get("/events", params={"status": "HOLD", "limit": 250}).json()
            holding = {e["request_id"] for e in events["models"]}
            return holding >= {r for ids in sent.values() for r in ids}

        wait_for(held, 60)

        def delivered(connection_id: str) -> set[str]:
            arrived = {r.headers.get("x-hookhouse-request-id", "") for r in receiver.snapshot()}
            return arrived & set(sent[connection_id])

        assert not delivered(first["id"]) and not delivered(second["id"])
        # Unpausing one releases it, while the other keeps holding.
        client.put(f"/connections/{second['id']}/unpause")
        wait_for(lambda: delivered(second["id"]) == set(sent[second["id"]]), 60)
        assert not delivered(first["id"])
        client.put(f"/connections/{first['id']}/unpause")
        wait_for(lambda: delivered(first["id"]) == set(sent[first["id"]]), 60)

    arrived = [r for r in receiver.snapshot() if r.headers.get("x-hookhouse-connection-id") in sent]
    assert {r.headers["x-hookhouse-attempt-trigger"] for r in arrived} == {"UNPAUSE"}
    # Released in their original order (delivery itself is concurrent, as in Hookdeck).
    env = read_env(stack.home / "stack.env")
    released: dict[str, list[str]] = {first["id"]: [], second["id"]: []}
    for record in topic_values(env["HOOKHOUSE_KAFKA_BOOTSTRAP"], "hookhouse.deliveries"):
        if record["connection_id"] in released and record["trigger"] == "UNPAUSE":
            released[record["connection_id"]].append(record["request_id"])
    assert released == sent


def test_a_rule_change_applies_without_a_restart(stack: Stack, receiver: Receiver) -> None:
    connection = connect(stack, receiver, "live")
    source_url = connection["source"]["url"]
    with api(stack) as client:
        changed = client.put(
            f"/connections/{connection['id']}",
            json={"rules": [{"type": "filter", "body": {"keep": True}}]},
        )
        assert changed.status_code == 200 and changed.json()["rules"][0]["type"] == "filter"
    dropped = httpx.post(source_url, json={"keep": False}).json()["request_id"]
    kept = httpx.post(source_url, json={"keep": True}).json()["request_id"]
    wait_for(lambda: kept in {r.headers.get("x-hookhouse-request-id") for r in receiver.snapshot()})
    assert dropped not in {r.headers.get("x-hookhouse-request-id") for r in receiver.snapshot()}


def test_restart_loses_no_accepted_request(stack: Stack, receiver: Receiver) -> None:
    connection = connect(stack, receiver, "restart")
    source_url = connection["source"]["url"]
    dedup = connect(stack, receiver, "dedup", [{"type": "deduplicate", "window": 600_000}])
    first = httpx.post(dedup["source"]["url"], json={"once": True}).json()["request_id"]
    accepted = set()
    for n in range(40):
        answer = httpx.post(source_url, json={"n": n})
        assert answer.status_code == 200
        accepted.add(answer.json()["request_id"])
    stack.down()  # at once: most of these are still in flight
    assert stack.home.joinpath("stack.env").exists()
    key_before = read_env(stack.home / "stack.env")["HOOKHOUSE_API_KEY"]
    env = stack.up()
    assert env["HOOKHOUSE_API_KEY"] == key_before  # the same project and key after restart

    def delivered() -> bool:
        seen = {r.headers.get("x-hookhouse-request-id") for r in receiver.snapshot()}
        return accepted <= seen

    wait_for(delivered, 120)
    with api(stack) as client:

        def all_successful() -> bool:
            events = client.get(
                "/events", params={"webhook_id": connection["id"], "limit": 250}
            ).json()["models"]
            return {e["request_id"] for e in events if e["status"] == "SUCCESSFUL"} == accepted

        wait_for(all_successful, 60)
    duplicates = [
        r for r in receiver.snapshot() if r.headers.get("x-hookhouse-request-id") in accepted
    ]
    by_request: dict[str, set[str]] = {}
    for r in duplicates:
        by_request.setdefault(r.headers["x-hookhouse-request-id"], set()).add(
            r.headers["idempotency-key"]
        )
    assert all(len(keys) == 1 for keys in by_request.values())  # retries keep their key
    # The deduplication memory survived the restart (restored from the dedup topic).
    assert first in {r.headers.get("x-hookhouse-request-id") for r in receiver.snapshot()}
    again = httpx.post(dedup["source"]["url"], json={"once": True}).json()["request_id"]
    with api(stack) as client:
        causes = wait_for(
            lambda: client.get(f"/requests/{again}/ignored_events").json()["models"], 60
        )
        assert [c["cause"] for c in causes] == ["DUPLICATE"]
    pids = json.loads((stack.home / "pids.json").read_text())
    assert all(pid_alive(pid) for pid in pids.values())


class InOrder:
    """The destination of an ordered connection: fails the first ``failures(n)``
    attempts of the n-th request, answers after ``delay``, and logs arrivals and answers
    in one sequence (an event is its key and its place in the key's order), so a check
    sees what had been answered when each event arrived."""

    def __init__(self, failures: Callable[[int], int], delay: float) -> None:
        self.failures = failures
        self.delay = delay
        self.log: list[tuple[str, tuple[str, int], str | int]] = []
        self.tries: Counter[tuple[str, int]] = Counter()
        self.lock = threading.Lock()

    def __call__(self, got: Received) -> Answer:
        body = json.loads(got.body)
        event = (body["customer"], body["place"])
        with self.lock:
            self.tries[event] += 1
            status = 503 if self.tries[event] <= self.failures(body["n"]) else 200
            self.log.append(("arrived", event, got.headers["idempotency-key"]))
        time.sleep(self.delay)
        with self.lock:  # before the answer is written: the deliverer sees it after
            self.log.append(("answered", event, status))
        return Answer(status)

    def delivered(self) -> int:
        with self.lock:
            return len({e for what, e, status in self.log if what == "answered" and status == 200})


def order_breaches(
    log: list[tuple[str, tuple[str, int], str | int]],
) -> tuple[list[str], list[str], int]:
    """What broke a key's order in ``log``: events that arrived before every one ahead
    of them was answered 2xx, events that arrived again after a later one of their key
    had arrived, and how many arrivals repeated an event already answered 2xx."""
    answered: dict[str, set[int]] = defaultdict(set)
    furthest: dict[str, int] = {}
    early: list[str] = []
    stale: list[str] = []
    repeats = 0
    for what, (key, place), detail in log:
        if what == "answered":
            if detail == 200:
                answered[key].add(place)
            continue
        missing = [p for p in range(place) if p not in answered[key]]
        if missing:
            early.append(f"{key}#{place} arrived before {key}#{missing} were answered 2xx")
        repeats += place in answered[key]
        if furthest.get(key, -1) > place:
            stale.append(f"{key}#{place} arrived again after {key}#{furthest[key]} had")
        furthest[key] = max(furthest.get(key, -1), place)
    return early, stale, repeats


def test_ordered_delivery_survives_a_killed_deliverer(stack: Stack) -> None:
    """Issue 29: events of one key arrive one after another in the order ingest accepted
    them, through failed first attempts and two SIGKILLs of the deliverer (which the
    supervisor restarts); only the head on its way at a kill may arrive twice."""
    keys, total = 15, 300
    # Every 7th request's first attempt fails, every 21st's first two.
    destination = InOrder(lambda n: (n % 7 == 0) + (n % 21 == 0), delay=0.03)
    rules = [{"type": "retry", "strategy": "linear", "interval": 1000, "count": 10}]
    with Receiver(destination) as receiver:
        ordering = {"key": "body.customer"}
        made = connect(stack, receiver, "in-order", rules, "/in-order", ordering)
        source_url = made["source"]["url"]
        pick = random.Random(29)
        places: Counter[str] = Counter()
        kills: list[str] = []

        def post(upto: int) -> None:
            """Post requests up to the ``upto``-th, one at a time (accepted in order)."""
            with httpx.Client() as ingest:
                for n in range(sum(places.values()), upto):
                    customer = f"cus_{pick.randrange(keys)}"
                    body = {"customer": customer, "place": places[customer], "n": n}
                    assert ingest.post(source_url, json=body).status_code == 200
                    places[customer] += 1

        def kill_deliverer() -> None:
            """SIGKILL every deliverer process mid-sequence; the supervisor starts it again."""
            delivered = destination.delivered()
            assert 0 < delivered < total, "not mid-sequence"
            killed = service_pids(stack, "deliverer")
            assert killed
            for pid in killed:
                os.kill(pid, signal.SIGKILL)
            kills.append(f"{sorted(killed)} at {delivered} delivered")
            wait_for(lambda: service_pids(stack, "deliverer") - killed, 30)

        post(100)
        wait_for(lambda: destination.delivered() >= 30, 30)
        kill_deliverer()
        post(200)
        after_restart = destination.delivered()
        wait_for(lambda: destination.delivered() > after_restart + 10, 30)
        kill_deliverer()
        post(total)
        wait_for(lambda: destination.delivered() == total, 120)
    with destination.lock:
        log = list(destination.log)
    early, stale, repeats = order_breaches(log)
    arrivals = sum(what == "arrived" for what, _, _ in log)
    print(f"kills: {kills}; {arrivals} arrivals, {repeats} repeats of an answered event")
    assert early == [], early[:20]
    keys_of: dict[tuple[str, int], set[str]] = defaultdict(set)
    for what, event, detail in log:
        if what == "arrived":
            keys_of[event].add(str(detail))
    assert len(keys_of) == total and all(len(k) == 1 for k in keys_of.values())  # stable keys
    assert len({k for ks in keys_of.values() for k in ks}) == total  # one per event
    assert stale == [], stale[:20]


def test_prometheus_scrapes_every_service_and_loads_the_alerts(stack: Stack) -> None:
    prometheus = f"http://127.0.0.1:{PORTS['HOOKHOUSE_PROMETHEUS_PORT']}/api/v1"

    def scraped() -> set[str]:
        """The services Prometheus has scraped, once it has scraped all five."""
        targets = httpx.get(f"{prometheus}/targets").json()["data"]["activeTargets"]
        up = {t["labels"]["service"] for t in targets if t["health"] == "up"}
        return up if len(up) == 5 else set()

    assert wait_for(scraped, 60) == {"ingest", "api", "router", "deliverer", "sink"}
    groups = httpx.get(f"{prometheus}/rules").json()["data"]["groups"]
    assert len([rule for group in groups for rule in group["rules"]]) == 8

    def depth() -> list[dict[str, Any]]:
        query = {"query": "hookhouse_retry_tier_depth"}
        found: list[dict[str, Any]] = httpx.get(f"{prometheus}/query", params=query).json()["data"][
            "result"
        ]
        return found

    assert {series["metric"]["tier"] for series in wait_for(depth, 60)} == {
        "5s",
        "1m",
        "10m",
        "1h",
        "6h",
    }
