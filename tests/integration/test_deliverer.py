"""The deliverer against the real broker, with local receivers that misbehave on purpose."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from confluent_kafka import Consumer, Producer
from standardwebhooks import Webhook

from hookhouse.common import topics
from hookhouse.common.clickhouse import migrate
from hookhouse.common.clock import now_ms
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.domain.config import new_resource
from hookhouse.common.domain.records import Delivery, b64
from hookhouse.common.domain.times import iso_ms
from hookhouse.common.kafka import client_config, ensure_topics
from hookhouse.common.settings import Settings
from hookhouse.deliverer.service import Deliverer
from tests.receiver import Answer, Received, Receiver
from tests.stack import isolated_settings

pytestmark = pytest.mark.integration

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


def deliverer_settings(**overrides: Any) -> Settings:
    made = isolated_settings(
        **{
            "topic_partitions": 1,  # every destination shares one partition
            "delivery_timeout_seconds": 1.0,
            **overrides,
        }
    )
    ensure_topics(made)
    migrate(made)
    return made


@contextlib.contextmanager
def config_log(settings: Settings) -> Iterator[ConfigLog]:
    log = ConfigLog(settings)
    log.start()
    assert log.wait_ready(30)
    project = new_resource("tm", "", {"name": "p", "signing_secret": "project-secret"}, now_ms())
    log.append("project", project["id"], project)
    try:
        yield log
    finally:
        log.stop()


@contextlib.contextmanager
def running(settings: Settings) -> Iterator[Deliverer]:
    """A deliverer in its own thread and event loop, stopped at the end."""
    deliverer = Deliverer(settings)
    loop = asyncio.new_event_loop()
    raised: list[BaseException] = []

    def run() -> None:
        try:
            loop.run_until_complete(deliverer.run())
        except BaseException as exc:
            raised.append(exc)
            raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield deliverer
    finally:
        loop.call_soon_threadsafe(deliverer.stop.set)
        thread.join(60)
        assert not deliverer.failed
        assert raised == [], f"the deliverer stopped on {raised[0]!r}"


@pytest.fixture(scope="module")
def dsettings(infra: None) -> Settings:
    return deliverer_settings(destination_allow_networks="127.0.0.0/8")


@pytest.fixture(scope="module")
def config(dsettings: Settings) -> Iterator[ConfigLog]:
    with config_log(dsettings) as log:
        yield log


@pytest.fixture(scope="module")
def deliverer(dsettings: Settings, config: ConfigLog) -> Iterator[Deliverer]:
    with running(dsettings) as started:
        yield started


def project_id(config: ConfigLog) -> str:
    return next(iter(config.state.resources["project"]))


def connect(
    config: ConfigLog, url: str, rules: list[dict[str, Any]] | None = None, **destination: Any
) -> tuple[str, str]:
    pid = project_id(config)
    dest = new_resource("des", pid, {"name": uuid.uuid4().hex, "url": url, **destination}, now_ms())
    config.append("destination", dest["id"], dest)
    conn = new_resource(
        "web",
        pid,
        {
            "name": uuid.uuid4().hex,
            "source_id": "src_t",
            "destination_id": dest["id"],
            "rules": rules or [],
        },
        now_ms(),
    )
    config.append("connection", conn["id"], conn)
    return conn["id"], dest["id"]


def delivery_of(
    connection_id: str,
    destination_id: str,
    project: str,
    event_id: str,
    request_id: str,
    body: Any,
    **fields: Any,
) -> Delivery:
    """A delivery of source ``src_t`` made now, with ``body`` as its JSON body."""
    stamp = iso_ms(now_ms())
    return Delivery(
        event_id=event_id,
        project_id=project,
        request_id=request_id,
        source_id="src_t",
        connection_id=connection_id,
        destination_id=destination_id,
        created_at=stamp,
        received_at=stamp,
        method="POST",
        path="",
        query="",
        headers={"content-type": "application/json"},
        body=b64(orjson.dumps(body)),
        **fields,
    )


def send(
    settings: Settings,
    connection_id: str,
    destination_id: str,
    count: int,
    project: str,
    **fields: Any,
) -> list[str]:
    producer = Producer(client_config(settings))
    ids = []
    given = fields.pop("event_id", None)
    for n in range(count):
        event_id = given or f"evt_{uuid.uuid4().hex}"
        delivery = delivery_of(
            connection_id, destination_id, project, event_id, f"req_{n}", {"n": n}, **fields
        )
        producer.produce(
            topics.name(settings, topics.DELIVERIES), delivery.to_json(), key=destination_id
        )
        ids.append(event_id)
    assert producer.flush(10) == 0
    return ids


def read_rows(
    settings: Settings,
    topic: str,
    kind: str | None,
    enough: Callable[[list[Any]], bool],
    timeout: float,
) -> list[Any]:
    """The JSON values on ``topic`` (only its records of ``kind`` when given), read from
    its start until ``enough`` of them came or ``timeout`` passed."""
    consumer = Consumer(
        {
            **client_config(settings),
            "group.id": uuid.uuid4().hex,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topics.name(settings, topic)])
    rows: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not enough(rows):
            for msg in consumer.consume(500, 0.5):
                if msg.error():
                    continue
                if kind is None or dict(msg.headers() or []).get("kind") == kind.encode():
                    rows.append(orjson.loads(msg.value() or b""))
    finally:
        consumer.close()
    return rows


def final_events(settings: Settings, wanted: set[str], timeout: float = 90) -> dict[str, Any]:
    """Each wanted event's state after its last attempt, once every one is final: the
    attempt rows on the records topic carry it (ClickHouse derives the event rows)."""

    def latest(rows: list[Any]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for row in rows:
            event_id = row["event_id"]
            if event_id in wanted and row["version"] >= found.get(event_id, {}).get("version", -1):
                found[event_id] = {
                    "id": event_id,
                    "status": row["event_status"],
                    "attempts": row["attempt_number"],
                    "error_code": row["error_code"],
                    "next_attempt_at": row["next_attempt_at"],
                    "version": row["version"],
                }
        return found

    def final(rows: list[Any]) -> bool:
        done = {i for i, row in latest(rows).items() if row["status"] in ("SUCCESSFUL", "FAILED")}
        return wanted <= done

    rows = read_rows(settings, topics.RECORDS, "attempt", final, timeout)
    if not final(rows):
        raise AssertionError(
            f"{len(wanted - set(latest(rows)))} events never reached a final status"
        )
    return latest(rows)


def dead_lettered(settings: Settings, wanted: set[str], timeout: float = 20) -> set[str]:
    def ids(letters: list[Any]) -> set[str]:
        return {letter["details"].get("event_id") for letter in letters} & wanted

    return ids(read_rows(settings, topics.DLQ, None, lambda got: wanted <= ids(got), timeout))


def wait_for(check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def test_flapping_receiver_every_event_is_accounted_for(
    dsettings: Settings, config: ConfigLog, deliverer: Deliverer
) -> None:
    rng = random.Random(42)

    def flap(_: Received) -> Answer:
        roll = rng.random()
        if roll < 0.3:
            return Answer(status=500)
        if roll < 0.4:
            return Answer(delay=1.5)  # longer than the 1 s delivery timeout
        return Answer()

    with Receiver(flap) as receiver:
        rules = [{"type": "retry", "strategy": "exponential", "interval": 100, "count": 2}]
        conn, dest = connect(config, receiver.url, rules)
        ids = set(send(dsettings, conn, dest, 80, project_id(config)))
        events = final_events(dsettings, ids)
        successful = {i for i in ids if events[i]["status"] == "SUCCESSFUL"}
        failed = {i for i in ids if events[i]["status"] == "FAILED"}
        assert successful | failed == ids and not successful & failed
        assert failed, "with 40% failures and 3 attempts some events should exhaust"
        assert dead_lettered(dsettings, failed) == failed
        for event_id in failed:
            assert events[event_id]["attempts"] == 3
        keys = {
            (r.headers["x-hookhouse-event-id"], r.headers["idempotency-key"])
            for r in receiver.snapshot()
        }
        assert all(event == key for event, key in keys)


def test_retry_after_sends_the_retry_through_a_retry_tier(
    dsettings: Settings, config: ConfigLog, deliverer: Deliverer
) -> None:
    def busy_once(got: Received) -> Answer:
        if got.headers["x-hookhouse-attempt-count"] == "1":
            return Answer(status=503, headers={"Retry-After": "6"})
        return Answer()

    with Receiver(busy_once) as receiver:
        rules = [
            {
                "type": "retry",
                "strategy": "linear",
                "interval": 100,
                "count": 1,
                "response_status_codes": ["500-599"],
            }
        ]
        conn, dest = connect(config, receiver.url, rules)
        (event_id,) = send(dsettings, conn, dest, 1, project_id(config))
        events = final_events(dsettings, {event_id})
        assert events[event_id]["status"] == "SUCCESSFUL" and events[event_id]["attempts"] == 2
        first, second = receiver.snapshot()
        assert second.headers["x-hookhouse-attempt-trigger"] == "AUTOMATIC"
        assert second.at - first.at >= 6  # Retry-After honoured: it waited in the 5 s tier


def test_an_unreadable_delivery_is_dead_lettered_with_its_cause_and_the_partition_moves_on(
    dsettings: Settings, config: ConfigLog, deliverer: Deliverer
) -> None:
    with Receiver(lambda _: Answer()) as receiver:
        conn, dest = connect(config, receiver.url, [])
        producer = Producer(client_config(dsettings))
        garbage = b"not a delivery " + uuid.uuid4().hex.encode()
        # The destination's key: the same partition as the good delivery sent after it.
        producer.produce(topics.name(dsettings, topics.DELIVERIES), garbage, key=dest)
        assert producer.flush(10) == 0
        (event_id,) = send(dsettings, conn, dest, 1, project_id(config))
        assert final_events(dsettings, {event_id})[event_id]["status"] == "SUCCESSFUL"

        def ours(letters: list[Any]) -> list[Any]:
            return [x for x in letters if base64.b64decode(x["value"]) == garbage]

        letters = ours(read_rows(dsettings, topics.DLQ, None, lambda got: bool(ours(got)), 20))
        assert [(x["stage"], x["reason"]) for x in letters] == [("deliverer", "invalid_delivery")]
        assert letters[0]["details"]["message"].startswith("not a delivery record")


def test_a_muted_event_gets_no_more_automatic_deliveries_but_manual_ones_go(
    dsettings: Settings, config: ConfigLog, deliverer: Deliverer
) -> None:
    with Receiver(lambda _: Answer(status=500)) as receiver:
        rules = [{"type": "retry", "strategy": "linear", "interval": 6000, "count": 5}]
        conn, dest = connect(config, receiver.url, rules)
        project = project_id(config)
        (event_id,) = send(dsettings, conn, dest, 1, project)
        wait_for(lambda: len(receiver.snapshot()) == 1)
        config.append("muted_event", event_id, {"id": event_id, "project_id": project})
        # Its retry, due 6 s after the first attempt, is dropped and the mark removed.
        wait_for(lambda: config.state.get("muted_event", event_id) is None, 30)
        # Retried by hand, a muted event is delivered; its automatic retry is not.
        by_hand = f"evt_{uuid.uuid4().hex}"
        config.append("muted_event", by_hand, {"id": by_hand, "project_id": project})
        send(dsettings, conn, dest, 1, project, event_id=by_hand, trigger="MANUAL", attempt=2)
        wait_for(lambda: config.state.get("muted_event", by_hand) is None, 30)
        triggers = [r.headers["x-hookhouse-attempt-trigger"] for r in receiver.snapshot()]
        assert triggers == ["INITIAL", "MANUAL"]
        assert dead_lettered(dsettings, {event_id, by_hand}, timeout=3) == set()


def test_status_rule_decides_what_is_retried(
    dsettings: Settings, config: ConfigLog, deliverer: Deliverer
) -> None:
    with Receiver(lambda _: Answer(status=401)) as receiver:
        rules = [{"type": "retry", "interval": 100, "count": 3, "response_status_codes": ["!401"]}]
        conn, dest = connect(config, receiver.url, rules)
        (event_id,) = send(dsettings, conn, dest, 1, project_id(config))
        events = final_events(dsettings, {event_id})
        assert events[event_id]["status"] == "FAILED" and events[event_id]["attempts"] == 1
        assert len(receiver.snapshot()) == 1


def test_a_rate_limited_destination_does_not_hold_up_a_fast_one(
    dsettings: Settings, config: ConfigLog, deliverer: Deliverer
) -> None:
    with Receiver() as slow, Receiver() as fast:
        slow_conn, slow_dest = connect(config, slow.url, rate_limit=2, rate_limit_period="second")
        fast_conn, fast_dest = connect(config, fast.url)
        project = project_id(config)
        slow_ids = send(dsettings, slow_conn, slow_dest, 16, project)
        fast_ids = send(dsettings, fast_conn, fast_dest, 16, project)  # behind them in the log
        wait_for(lambda: len(fast.snapshot()) == len(fast_ids), 60)
        assert len(slow.snapshot()) < 12  # the slow one is still far from done
        final_events(dsettings, set(slow_ids), timeout=120)
        arrivals = sorted(r.at for r in slow.snapshot())
        for start in arrivals:  # never more than 2 starts in any one-second window
            assert len([a for a in arrivals if start <= a < start + 0.999]) <= 2 + 1


def test_signatures_verify_with_independent_implementations(
    dsettings: Settings, config: ConfigLog, deliverer: Deliverer
) -> None:
    with Receiver() as receiver:
        conn, dest = connect(
            config,
            receiver.url,
            auth_method={"type": "STANDARD_WEBHOOKS", "config": {"signing_secret": SECRET}},
        )
        send(dsettings, conn, dest, 3, project_id(config))
        wait_for(lambda: len(receiver.snapshot()) == 3)
        for got in receiver.snapshot():
            Webhook(SECRET).verify(got.body, got.headers)  # raises if the signature is wrong
            assert got.headers["webhook-id"] == got.headers["x-hookhouse-event-id"]


def test_cookies_set_by_a_destination_are_never_sent_back(
    dsettings: Settings, config: ConfigLog, deliverer: Deliverer
) -> None:
    """Deliveries are stateless: a cookie one destination sets must not ride along with
    later deliveries to that host, which may be another tenant's destination."""
    answer = Answer(headers={"set-cookie": "session=tenant-a; Path=/"})
    with Receiver(lambda _: answer) as receiver:
        by_name = receiver.url.replace("127.0.0.1", "localhost")  # IP hosts get no cookies
        first = connect(config, by_name)
        send(dsettings, *first, 1, project_id(config))
        wait_for(lambda: len(receiver.snapshot()) == 1)
        second = connect(config, by_name + "/other")
        send(dsettings, *second, 1, project_id(config))
        send(dsettings, *first, 1, project_id(config))
        wait_for(lambda: len(receiver.snapshot()) == 3)
        assert [got.headers.get("cookie") for got in receiver.snapshot()] == [None] * 3


def test_response_bodies_are_kept_up_to_the_documented_size(
    dsettings: Settings, config: ConfigLog, deliverer: Deliverer
) -> None:
    """A short answer is kept whole (read in one call), a long one is cut at
    ``response_body_limit`` (read in chunks)."""
    limit = dsettings.response_body_limit
    bodies = {"/short": b'{"ok":true}', "/long": b"y" * (limit * 3)}
    with Receiver(lambda got: Answer(body=bodies[got.path])) as receiver:
        wanted = set()
        for path in ("/long", "/short", "/long"):
            wanted |= set(
                send(dsettings, *connect(config, receiver.url + path), 1, project_id(config))
            )
        attempts = read_rows(
            dsettings,
            topics.RECORDS,
            "attempt",
            lambda rows: wanted <= {row["event_id"] for row in rows},
            60,
        )
    kept = {row["event_id"]: row["response_body"] for row in attempts if row["event_id"] in wanted}
    assert sorted(len(body) for body in kept.values()) == [len(bodies["/short"]), limit, limit]
    assert {body[:2] for body in kept.values()} == {'{"', "yy"}


def test_an_answer_later_than_the_timeout_is_a_timeout_attempt(
    dsettings: Settings, config: ConfigLog, deliverer: Deliverer
) -> None:
    """The request is given up at its destination's ``http_timeout`` or, without one,
    at the deliverer's 1 s default; the answer would come after 5 s."""
    cases: list[tuple[dict[str, Any], int]] = [({}, 1), ({"http_timeout": 2}, 2)]
    with Receiver(lambda _: Answer(delay=5)) as receiver:
        sent: dict[str, int] = {}  # event id -> its timeout
        for given, seconds in cases:
            conn, dest = connect(config, receiver.url, None, **given)
            (event_id,) = send(dsettings, conn, dest, 1, project_id(config))
            sent[event_id] = seconds
        attempts = read_rows(
            dsettings,
            topics.RECORDS,
            "attempt",
            lambda rows: set(sent) <= {row["event_id"] for row in rows},
            60,
        )
    assert set(sent) <= {attempt["event_id"] for attempt in attempts}
    for attempt in attempts:
        if attempt["event_id"] in sent:
            seconds = sent[attempt["event_id"]]
            assert (attempt["status"], attempt["error_code"]) == ("FAILED", "TIMEOUT")
            assert attempt["response_status"] is None
            assert attempt["response_body"] == f"no answer within {seconds} s"
            assert seconds * 1000 <= attempt["duration_ms"] < 5000


def test_private_addresses_are_refused_without_retry(infra: None) -> None:
    guarded = deliverer_settings(destination_allow_networks="")
    with Receiver() as receiver, config_log(guarded) as config, running(guarded):
        rules = [{"type": "retry", "interval": 100, "count": 3}]
        conn, dest = connect(config, receiver.url, rules)
        (event_id,) = send(guarded, conn, dest, 1, project_id(config))
        events = final_events(guarded, {event_id})
    assert events[event_id]["status"] == "FAILED"
    assert events[event_id]["error_code"] == "SSRF_BLOCKED"
    assert receiver.snapshot() == []


def oauth2(auth_server: str, client_secret: str) -> dict[str, Any]:
    """A destination's OAuth2 client-credentials auth, its token from ``auth_server``."""
    return {
        "type": "OAUTH2_CLIENT_CREDENTIALS",
        "config": {"client_id": "id", "client_secret": client_secret, "auth_server": auth_server},
    }


def test_oauth2_token_is_fetched_once_and_sent(
    dsettings: Settings, config: ConfigLog, deliverer: Deliverer
) -> None:
    def token_or_ok(got: Received) -> Answer:
        if got.path == "/token":
            return Answer(body=b'{"access_token": "tok-123", "expires_in": 3600}')
        return Answer()

    with Receiver(token_or_ok) as receiver:
        auth = oauth2(f"{receiver.url}/token", "secret")
        conn, dest = connect(config, f"{receiver.url}/hooks", auth_method=auth)
        send(dsettings, conn, dest, 3, project_id(config))
        wait_for(lambda: len([r for r in receiver.snapshot() if r.path == "/hooks"]) == 3)
        token_calls = [r for r in receiver.snapshot() if r.path == "/token"]
        hooks = [r for r in receiver.snapshot() if r.path == "/hooks"]
    assert len(token_calls) == 1
    assert b"grant_type=client_credentials" in token_calls[0].body
    assert token_calls[0].headers["authorization"].startswith("Basic ")
    assert all(r.headers["authorization"] == "Bearer tok-123" for r in hooks)
    assert all(r.headers["x-hookhouse-destination-name"] for r in hooks)


def test_an_oauth2_token_is_fetched_again_after_a_401_and_when_its_config_changes(
    dsettings: Settings, config: ConfigLog, deliverer: Deliverer
) -> None:
    issued: list[str] = []

    def answer(got: Received) -> Answer:
        if got.path == "/token":
            issued.append(f"tok-{len(issued) + 1}")
            return Answer(body=orjson.dumps({"access_token": issued[-1], "expires_in": 3600}))
        return Answer(status=401 if got.headers["authorization"] == "Bearer tok-1" else 200)

    def authorizations(path: str) -> list[str]:
        return [r.headers["authorization"] for r in receiver.snapshot() if r.path == path]

    with Receiver(answer) as receiver:
        auth = oauth2(f"{receiver.url}/token", "a")
        rules = [{"type": "retry", "interval": 100, "count": 3}]
        conn, dest = connect(config, f"{receiver.url}/hooks", rules, auth_method=auth)
        (refused,) = send(dsettings, conn, dest, 1, project_id(config))
        events = final_events(dsettings, {refused})
        assert (events[refused]["status"], events[refused]["attempts"]) == ("SUCCESSFUL", 2)

        rotated = oauth2(f"{receiver.url}/token", "b")
        changed = {**(config.state.get("destination", dest) or {}), "auth_method": rotated}
        config.append("destination", dest, changed)
        wait_for(lambda: deliverer.config.state.get("destination", dest) == changed, 10)
        send(dsettings, conn, dest, 1, project_id(config))
        wait_for(lambda: len(authorizations("/hooks")) == 3)
        hooks, tokens = authorizations("/hooks"), authorizations("/token")
    assert hooks == ["Bearer tok-1", "Bearer tok-2", "Bearer tok-3"]
    secrets = [base64.b64decode(basic.split()[1]) for basic in tokens]
    assert secrets == [b"id:a", b"id:a", b"id:b"]


def test_an_oauth2_token_request_has_its_destinations_timeout(
    dsettings: Settings, config: ConfigLog, deliverer: Deliverer
) -> None:
    """The auth server answers in 1.5 s: within the destination's 3 s ``http_timeout``,
    though past the deliverer's default (1 s in these tests).  The delivery after it
    has what is left of the 3 s: an answer 0.5 s later is in time, one 2 s later is not."""

    def slow_token(got: Received) -> Answer:
        if got.path == "/token":
            return Answer(delay=1.5, body=b'{"access_token": "tok", "expires_in": 3600}')
        return Answer(delay=0.5 if got.path == "/in-time" else 2)

    with Receiver(slow_token) as receiver:
        auth = oauth2(f"{receiver.url}/token", "s")
        sent = {}
        for path in ("/in-time", "/late"):
            conn, dest = connect(
                config, f"{receiver.url}{path}", None, auth_method=auth, http_timeout=3
            )
            (sent[path],) = send(dsettings, conn, dest, 1, project_id(config))
        events = final_events(dsettings, set(sent.values()))
        hooks = [r for r in receiver.snapshot() if r.path == "/in-time"]
    assert events[sent["/in-time"]]["status"] == "SUCCESSFUL"
    assert [r.headers["authorization"] for r in hooks] == ["Bearer tok"]
    assert (events[sent["/late"]]["status"], events[sent["/late"]]["error_code"]) == (
        "FAILED",
        "TIMEOUT",
    )
