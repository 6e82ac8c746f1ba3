"""The deliverer's outbound hardening against the real broker and loopback receivers:
classes 3 (the forwarded path and query), 4 (token requests pass the SSRF guard) and 6
(API keys masked in attempts; gateway headers not spoofable).

The deliverer here allows 127.0.0.1 only; 127.0.0.2, loopback as well, stands for an
address it must not reach."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from confluent_kafka import Producer

from hookhouse.common import topics
from hookhouse.common.clock import now_ms
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.domain.records import Delivery, b64
from hookhouse.common.domain.signing import hookdeck_signature
from hookhouse.common.domain.times import iso_ms
from hookhouse.common.kafka import client_config
from hookhouse.common.settings import Settings
from hookhouse.deliverer.service import Deliverer
from tests.integration.test_deliverer import (
    config_log,
    connect,
    deliverer_settings,
    final_events,
    oauth2,
    project_id,
    read_rows,
    running,
    wait_for,
)
from tests.receiver import Answer, Received, Receiver

pytestmark = pytest.mark.integration

BODY = b'{"n":1}'


@pytest.fixture(scope="module")
def dsettings(infra: None) -> Settings:
    return deliverer_settings(destination_allow_networks="127.0.0.1/32")


@pytest.fixture(scope="module")
def config(dsettings: Settings) -> Iterator[ConfigLog]:
    with config_log(dsettings) as log:
        yield log


@pytest.fixture(scope="module")
def deliverer(dsettings: Settings, config: ConfigLog) -> Iterator[Deliverer]:
    with running(dsettings) as started:
        yield started


def deliver(
    settings: Settings,
    config: ConfigLog,
    connection: tuple[str, str],
    path: str = "",
    query: str = "",
    headers: dict[str, str] | None = None,
) -> str:
    """Produce one delivery as the router would, with the request's path, query and
    headers as ingest stores them; its event id."""
    event_id = f"evt_{uuid.uuid4().hex}"
    stamp = iso_ms(now_ms())
    delivery = Delivery(
        event_id=event_id,
        project_id=project_id(config),
        request_id=f"req_{uuid.uuid4().hex}",
        source_id="src_t",
        connection_id=connection[0],
        destination_id=connection[1],
        created_at=stamp,
        received_at=stamp,
        method="POST",
        path=path,
        query=query,
        headers=headers or {"content-type": "application/json"},
        body=b64(BODY),
    )
    producer = Producer(client_config(settings))
    producer.produce(
        topics.name(settings, topics.DELIVERIES), delivery.to_json(), key=connection[1]
    )
    assert producer.flush(10) == 0
    return event_id


def attempts(settings: Settings, wanted: set[str]) -> dict[str, Any]:
    rows = read_rows(
        settings,
        topics.RECORDS,
        "attempt",
        lambda got: wanted <= {row["event_id"] for row in got},
        60,
    )
    return {row["event_id"]: row for row in rows if row["event_id"] in wanted}


def test_the_forwarded_path_and_query_stay_below_the_destination_and_its_key_is_masked(
    dsettings: Settings, config: ConfigLog, deliverer: Deliverer
) -> None:
    api_key = {
        "type": "API_KEY",
        "config": {"key": "api_key", "api_key": "K-SECRET", "to": "query"},
    }
    cases = {  # (path as ingest stores it, query) -> what the destination must see
        ("/../../admin", ""): "/hooks/p1/admin?own=1&api_key=K-SECRET",
        (
            "/x?api_key=attacker&own=2",
            "",
        ): "/hooks/p1/x%3Fapi_key=attacker&own=2?own=1&api_key=K-SECRET",
        ("/x#", ""): "/hooks/p1/x%23?own=1&api_key=K-SECRET",
        ("/y", "api_key=evil&own=3&a=1"): "/hooks/p1/y?own=1&a=1&api_key=K-SECRET",
        ("/..;/z", "x=#frag"): "/hooks/p1/..%3B/z?own=1&x=%23frag&api_key=K-SECRET",
    }
    with Receiver() as receiver:
        connection = connect(config, f"{receiver.url}/hooks/p1?own=1", auth_method=api_key)
        sent = {
            deliver(dsettings, config, connection, path, query): wanted
            for (path, query), wanted in cases.items()
        }
        wait_for(lambda: len(receiver.snapshot()) == len(sent))
        seen = {got.headers["x-hookhouse-event-id"]: got.path for got in receiver.snapshot()}
    assert seen == sent
    rows = attempts(dsettings, set(sent))
    for event_id, row in rows.items():
        assert row["status"] == "SUCCESSFUL"
        assert row["requested_url"] == receiver.url + sent[event_id].replace("K-SECRET", "***")
        assert b"K-SECRET" not in orjson.dumps(row)


def test_a_provider_cannot_supply_the_gateways_headers(
    dsettings: Settings, config: ConfigLog, deliverer: Deliverer
) -> None:
    spoofed = {
        "content-type": "application/json",
        "X-Hookhouse-Verified": "true",
        "x-hookhouse-signature": "forged",
        "X-Hookhouse-Will-Retry-After": "1",
        "x-hookdeck-signature": "forged",
        "Idempotency-Key": "forged",
        "Connection": "X-Hop-Only",
        "x-hop-only": "secret",
        "Keep-Alive": "timeout=5",
        "stripe-signature": "t=1,v1=kept",
    }
    signature = {"type": "HOOKDECK_SIGNATURE", "config": {}}
    with Receiver() as receiver:
        connection = connect(config, receiver.url, auth_method=signature)
        event_id = deliver(dsettings, config, connection, headers=spoofed)
        wait_for(lambda: len(receiver.snapshot()) == 1)
        (got,) = receiver.snapshot()
    lines = [(name.lower(), value) for name, value in got.header_lines]

    def values(name: str) -> list[str]:
        return [value for key, value in lines if key == name]

    assert values("x-hookhouse-signature") == [hookdeck_signature("project-secret", BODY)]
    assert values("idempotency-key") == [event_id]
    assert values("x-hookhouse-verified") == []  # the record says nothing: not the provider
    assert values("x-hookhouse-will-retry-after") == []  # no retry rule: no retry
    assert values("x-hop-only") == [] and values("keep-alive") == []
    assert not [key for key, _ in lines if key.startswith("x-hookdeck-")]
    assert values("stripe-signature") == ["t=1,v1=kept"]


def test_an_oauth2_token_request_passes_the_ssrf_guard(
    dsettings: Settings, config: ConfigLog, deliverer: Deliverer
) -> None:
    """aiohttp resolves no name for ``http://127.0.0.2/``: the guard must still see it."""
    token = Answer(body=b'{"access_token": "tok", "expires_in": 3600}')
    with Receiver(lambda _: token, host="127.0.0.2") as elsewhere, Receiver() as receiver:
        connection = connect(
            config, f"{receiver.url}/hooks", auth_method=oauth2(f"{elsewhere.url}/token", "s")
        )
        event_id = deliver(dsettings, config, connection)
        events = final_events(dsettings, {event_id})
        assert (events[event_id]["status"], events[event_id]["error_code"]) == (
            "FAILED",
            "SSRF_BLOCKED",
        )
        assert elsewhere.snapshot() == [] and receiver.snapshot() == []


def test_an_oauth2_token_request_does_not_follow_redirects(
    dsettings: Settings, config: ConfigLog, deliverer: Deliverer
) -> None:
    """Not even to an allowed address: the client's secret would go with it."""

    def moved(got: Received) -> Answer:
        if got.path == "/token":
            return Answer(status=307, headers={"location": "/elsewhere"})
        return Answer(body=b'{"access_token": "tok", "expires_in": 3600}')

    with Receiver(moved) as receiver:
        connection = connect(
            config, f"{receiver.url}/hooks", auth_method=oauth2(f"{receiver.url}/token", "s")
        )
        event_id = deliver(dsettings, config, connection)
        events = final_events(dsettings, {event_id})
        paths = [got.path for got in receiver.snapshot()]
    assert (events[event_id]["status"], events[event_id]["error_code"]) == (
        "FAILED",
        "OAUTH2_HANDSHAKE_FAILED",
    )
    assert paths == ["/token"]
