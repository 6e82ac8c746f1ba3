"""What an anonymous provider, or a producer writing to Kafka directly, can send at the
whole stack (``hookhouse up``): each is refused clearly or dead-lettered, recorded, and
no record stops the router — the same process keeps routing, and later webhooks are
delivered."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any

import httpx
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from hookhouse.common.clock import now_ms
from hookhouse.common.domain.limits import TOPIC_MAX_MESSAGE_BYTES
from hookhouse.common.domain.times import iso_ms
from hookhouse.common.sealing import PREFIX, SECRET_NAMES
from hookhouse.stack.supervisor import read_env
from tests.e2e.running import (
    PORTS,
    Stack,
    api,
    connect,
    service_pids,
    topic_values,
    wait_for,
)
from tests.receiver import Receiver

pytestmark = pytest.mark.e2e

INGEST = f"http://127.0.0.1:{PORTS['HOOKHOUSE_INGEST_PORT']}"
BODY_LIMIT = int(PORTS["HOOKHOUSE_MAX_BODY_BYTES"])


def delivered_ids(receiver: Receiver) -> set[str | None]:
    return {r.headers.get("x-hookhouse-request-id") for r in receiver.snapshot()}


def post(source_id: str, body: bytes = b'{"ok": true}', **kwargs: Any) -> httpx.Response:
    headers = {"content-type": "application/json", **kwargs.pop("headers", {})}
    return httpx.post(
        f"{INGEST}/e/{source_id}{kwargs.pop('path', '')}",
        content=body,
        headers=headers,
        timeout=30,
        **kwargs,
    )


def end_offsets(bootstrap: str, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "security-reader"})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    total = sum(
        consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions
    )
    consumer.close()
    return total


def test_requests_past_each_limit_are_refused_clearly_and_recorded(
    stack: Stack, receiver: Receiver
) -> None:
    source_id = connect(stack, receiver, "limits")["source"]["id"]
    many = {f"x-h{n}": "v" for n in range(101)}
    answers = {
        "headers": post(source_id, headers=many),
        "header bytes": post(source_id, headers={"x-big": "v" * 70_000}),
        "url": post(source_id, path="/" + "p" * 17_000),
    }
    assert {name: r.status_code for name, r in answers.items()} == {
        "headers": 431,
        "header bytes": 431,
        "url": 414,
    }
    assert answers["headers"].json()["code"] == "REQUEST_HEADER_FIELDS_TOO_LARGE"
    assert answers["url"].json()["code"] == "URI_TOO_LONG"
    # A client that sends its whole body before it reads (urllib does) gets the 413,
    # not a reset connection.
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{INGEST}/e/{source_id}",
        data=b"x" * (4 * BODY_LIMIT),
        headers={"content-type": "text/plain"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)  # noqa: S310 (loopback)
    assert refused.value.code == 413
    assert json.loads(refused.value.read())["code"] == "PAYLOAD_TOO_LARGE"

    with api(stack) as client:

        def recorded() -> list[dict[str, Any]]:
            listed = client.get(
                "/requests",
                params={"source_id": source_id, "rejection_cause": "PAYLOAD_TOO_LARGE"},
            )
            models: list[dict[str, Any]] = listed.json()["models"]
            return models if len(models) == 4 else []

        rows = wait_for(recorded, 60)
    assert all(len(json.dumps(row)) < 40_000 for row in rows), "recorded without the excess"


def test_providers_do_not_see_the_metrics_that_name_every_source(
    stack: Stack, receiver: Receiver
) -> None:
    source_id = connect(stack, receiver, "listed")["source"]["id"]
    assert post(source_id).status_code == 200
    assert httpx.get(f"{INGEST}/metrics").status_code == 404
    assert httpx.get(f"{INGEST}/healthz").status_code == 200  # load balancers' probes stay
    operators = f"http://127.0.0.1:{PORTS['HOOKHOUSE_INGEST_METRICS_PORT']}/metrics"
    assert source_id in httpx.get(operators).text


def test_head_is_answered_and_not_stored(stack: Stack, receiver: Receiver) -> None:
    source_id = connect(stack, receiver, "probe")["source"]["id"]
    bootstrap = read_env(stack.home / "stack.env")["HOOKHOUSE_KAFKA_BOOTSTRAP"]
    before = end_offsets(bootstrap, "hookhouse.requests")
    with httpx.Client(timeout=10) as client:
        answers = {client.head(f"{INGEST}/e/{source_id}").status_code for _ in range(200)}
    assert answers == {200}
    assert end_offsets(bootstrap, "hookhouse.requests") == before


def test_no_record_stops_the_router(stack: Stack, receiver: Receiver) -> None:
    """Garbage and records too large to route, produced straight to ``requests``, are
    dead-lettered one by one: the router that read them is the one that routes next."""
    connection = connect(stack, receiver, "survivor")
    source_id = connection["source"]["id"]
    (router,) = service_pids(stack, "router")
    bootstrap = read_env(stack.home / "stack.env")["HOOKHOUSE_KAFKA_BOOTSTRAP"]
    envelope = {
        "id": "req_too_large_to_route",
        "project_id": connection["team_id"],
        "source_id": source_id,
        "received_at": iso_ms(now_ms()),
        "method": "POST",
        "path": "",
        "query": "",
        "headers": {"content-type": "text/plain"},
        # Within the topic's limit, past what its records may be: its delivery and rows
        # could not be dead-lettered in turn.
        "body": base64.b64encode(b"x" * (TOPIC_MAX_MESSAGE_BYTES * 3 // 4 - 2**20)).decode(),
    }
    producer = Producer(
        {"bootstrap.servers": bootstrap, "message.max.bytes": TOPIC_MAX_MESSAGE_BYTES}
    )
    # Over the window of the ratio breaker that used to stop the router (1,000).
    for n in range(1_100):
        producer.produce("hookhouse.requests", b"garbage %d" % n, key=source_id)
    producer.produce("hookhouse.requests", json.dumps(envelope).encode(), key=source_id)
    assert producer.flush(30) == 0

    after = post(source_id, b'{"after": "garbage"}')
    assert after.status_code == 200, after.text
    request_id = after.json()["request_id"]
    wait_for(lambda: request_id in delivered_ids(receiver), 120)
    assert service_pids(stack, "router") == {router}

    letters = [
        letter
        for letter in topic_values(bootstrap, "hookhouse.dlq")
        if letter["stage"] == "router" and letter["reason"] == "record_too_large"
    ]
    assert len(letters) == 1, letters
    assert letters[0]["value"] == ""
    assert "topic retains it" in letters[0]["details"]["value_omitted"]


def test_the_config_topic_holds_no_secret_in_clear(stack: Stack) -> None:
    """`hookhouse up` seals secrets with its home's key; every service opens them (the
    deliveries of the other tests were signed with the project's sealed secret)."""
    token = "a-bearer-token-nobody-may-read"
    with api(stack) as client:
        made = client.post(
            "/destinations",
            json={
                "name": "sealed-destination",
                "url": "http://127.0.0.1:9/hooks",
                "auth_method": {"type": "BEARER_TOKEN", "config": {"token": token}},
            },
        )
        assert made.status_code == 200, made.text
    bootstrap = read_env(stack.home / "stack.env")["HOOKHOUSE_KAFKA_BOOTSTRAP"]
    secrets: list[str] = []

    def collect(item: Any) -> None:
        if isinstance(item, dict):
            for name, value in item.items():
                if name in SECRET_NAMES and isinstance(value, str) and value:
                    secrets.append(value)
                else:
                    collect(value)
        elif isinstance(item, list):
            for value in item:
                collect(value)

    for record in topic_values(bootstrap, "hookhouse.config"):
        collect(record)
    assert len(secrets) >= 2  # the project's signing secret and the token at least
    assert all(value.startswith(PREFIX) for value in secrets), secrets
