"""What the worst records on topic ``ordered`` do to the deliverer: none stops it, none
holds back another key, connection or tenant, and one key's flood is held in bounded
memory and still delivered in order (``deliverer/lanes.py``)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import orjson
import pytest
from confluent_kafka import Producer

from hookhouse.common import topics
from hookhouse.common.clock import now_ms
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.domain.ordering import lane_of
from hookhouse.common.domain.records import Delivery
from hookhouse.common.domain.times import iso_ms
from hookhouse.common.kafka import client_config
from hookhouse.common.settings import Settings
from tests.integration.test_deliverer import (
    config_log,
    connect,
    deliverer_settings,
    delivery_of,
    project_id,
    read_rows,
    running,
    wait_for,
)
from tests.integration.test_ordered_delivery import Flaky, delivered_in_order, produce
from tests.receiver import Answer, Received, Receiver

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def osettings(infra: None) -> Settings:
    return deliverer_settings(destination_allow_networks="127.0.0.0/8", topic_partitions=2)


@pytest.fixture(scope="module")
def config(osettings: Settings) -> Iterator[ConfigLog]:
    with config_log(osettings) as log:
        yield log


RETRY = [{"type": "retry", "strategy": "linear", "interval": 1500, "count": 5}]


def raw(settings: Settings, records: list[tuple[str, bytes]]) -> None:
    producer = Producer(client_config(settings))
    for key, value in records:
        producer.produce(topics.name(settings, topics.ORDERED), value, key=key)
    assert producer.flush(10) == 0


def test_malformed_records_neither_stop_nor_block_the_lanes(
    osettings: Settings, config: ConfigLog
) -> None:
    flaky = Flaky(set(), times=0)
    with Receiver(flaky) as receiver:
        connection, destination = connect(config, receiver.url)
        project = project_id(config)
        lane = f"{connection}:odd"

        def odd(n: int, **fields: object) -> bytes:
            made = delivery_of(
                connection,
                destination,
                project,
                f"evt_odd{n}",
                "req_odd",
                {"key": f"odd{n}", "n": 0},
                ordering_key="odd",
                sequence=[0, 0],
            )
            value = orjson.loads(made.to_json())
            value.update(fields)
            return json.dumps(value).encode()  # orjson refuses integers past 64 bits

        raw(
            osettings,
            [
                (lane, b"not json"),
                (lane, b"{" * 100_000),  # deeply nested
                (lane, orjson.dumps({"event_id": "evt_x"})),  # not a delivery
                (lane, odd(1, sequence=["a", 1])),  # no usable sequence: unordered
                (lane, odd(2, sequence=[1])),
                (lane, odd(3, sequence=[10**30, 10**30])),  # past any offset: unordered
                (lane, odd(4, ordering_key=None)),  # no key: unordered
                (lane, odd(5, body="%%%not base64")),
            ],
        )
        keys = {"good": 5}
        produce(osettings, connection, destination, project, [("good", n) for n in range(5)])
        with running(osettings):
            wait_for(lambda: sum(1 for k, *_ in flaky.log if k == "good") == 5, 60)
            wait_for(lambda: {f"odd{n}" for n in (1, 2, 3, 4)} <= {k for k, *_ in flaky.log}, 60)
        delivered_in_order([x for x in flaky.log if x[0] == "good"], keys)
    letters = read_rows(osettings, topics.DLQ, None, lambda got: len(got) >= 4, 30)
    reasons = sorted(letter["reason"] for letter in letters)
    assert reasons.count("invalid_delivery") == 4  # the three non-deliveries, bad base64


def test_a_flooded_failing_key_spills_and_still_holds_no_one_else_back(
    osettings: Settings, config: ConfigLog
) -> None:
    """More events behind one failing head than a lane keeps in memory (200): the rest
    stay on the topic and are read again, in order; other keys and another tenant's
    connection with the same key value go on meanwhile."""
    flaky = Flaky({"hot0"}, times=2)
    with Receiver(flaky) as receiver, Receiver(Flaky(set(), 0)) as other_receiver:
        connection, destination = connect(config, receiver.url, RETRY)
        other, other_destination = connect(config, other_receiver.url)
        project = project_id(config)
        flood = [("hot", n) for n in range(450)]
        produce(osettings, connection, destination, project, [*flood, ("cool", 0), ("cool", 1)])
        produce(osettings, other, other_destination, project, [("hot", n) for n in range(3)])
        with running(osettings):
            # One key's events go one at a time, each after the record ending the one
            # before is acknowledged (~19 s on an idle machine, ~76 s before those
            # records were sent at once): a bound for a hang only.
            wait_for(lambda: sum(s < 300 for k, _, s in flaky.log if k == "hot") == 450, 300)
        delivered_in_order(flaky.log, {"hot": 450, "cool": 2})
        first_hot0_success = flaky.log.index(("hot", 0, 200))
        assert flaky.log.index(("cool", 1, 200)) < first_hot0_success
        assert len(other_receiver.snapshot()) == 3  # the same key value, another lane
        # each of the 450 pushed once after the head's two failures: no repeats
        assert len(flaky.log) == 454


def test_a_cancelled_head_unblocks_its_key_at_once(osettings: Settings, config: ConfigLog) -> None:
    flaky = Flaky({"m0"}, times=99)  # never answers m0 well
    with Receiver(flaky) as receiver:
        rules = [{"type": "retry", "strategy": "linear", "interval": 600_000, "count": 5}]
        connection, destination = connect(config, receiver.url, rules)
        produce(osettings, connection, destination, project_id(config), [("m", 0), ("m", 1)])
        with running(osettings):
            wait_for(lambda: ("m", 0, 503) in flaky.log, 30)
            mark = {"id": "evt_m0", "project_id": project_id(config), "muted_at": iso_ms(now_ms())}
            config.put("muted_event", "evt_m0", mark)
            wait_for(lambda: ("m", 1, 200) in flaky.log, 30)  # not ten minutes later
        assert flaky.log == [("m", 0, 503), ("m", 1, 200)]


def send_ordered(settings: Settings, deliveries: list[Delivery]) -> None:
    raw(settings, [(lane_of(d), d.to_json()) for d in deliveries])


def test_a_delay_rule_holds_an_ordered_head(osettings: Settings, config: ConfigLog) -> None:
    """A connection's delay rule is the delivery's ``not_before``: a key's head waits
    for it like any delivery (a fresh head's own schedule is none)."""
    got: list[float] = []

    def answer(_: Received) -> Answer:
        got.append(time.time())
        return Answer()

    with Receiver(answer) as receiver:
        connection, destination = connect(config, receiver.url)
        sent = time.time()
        due = iso_ms(now_ms() + 5_000)
        body = {"key": "d", "n": 0}
        delayed = delivery_of(
            connection,
            destination,
            project_id(config),
            "evt_d0",
            "req_d0",
            body,
            ordering_key="d",
            sequence=[0, 0],
            not_before=due,
        )
        send_ordered(osettings, [delayed])
        with running(osettings):
            wait_for(lambda: bool(got), 30)
        assert got[0] - sent >= 4.5  # not before it was due


def test_a_rebalance_leaves_no_second_sender_of_a_head(
    osettings: Settings, config: ConfigLog
) -> None:
    """Deliverer A holds blocked heads; B joins and is given the ``ordered`` partitions
    while A reads no more of them: A must drop their lanes and timers all the same, or
    it goes on attempting heads that are B's, after their next events."""
    keys = [f"rc{i}x" for i in range(6)]
    counts: dict[str, int] = {}
    log: list[tuple[str, int, int]] = []

    def answer(got: Received) -> Answer:
        body = orjson.loads(got.body)
        name = f"{body['key']}{body['n']}"
        counts[name] = counts.get(name, 0) + 1
        # a head is answered well once, at its third push; any other push of it fails
        status = 200 if body["n"] != 0 or counts[name] == 3 else 503
        log.append((body["key"], body["n"], status))
        return Answer(status=status)

    with Receiver(answer) as receiver:
        rules = [{"type": "retry", "strategy": "linear", "interval": 3000, "count": 6}]
        connection, destination = connect(config, receiver.url, rules)
        events = [(k, n) for n in range(2) for k in keys]
        produce(osettings, connection, destination, project_id(config), events)
        with running(osettings):
            wait_for(lambda: all(counts.get(f"{k}0", 0) >= 1 for k in keys), 30)
            with running(osettings):
                wait_for(lambda: all((k, 1, 200) in log for k in keys), 60)
                time.sleep(7)  # two more retry intervals
    for k in keys:
        pushes = [(n, s) for key, n, s in log if key == k]
        after_next = pushes[pushes.index((1, 200)) :]
        assert all(n == 1 for n, _ in after_next), f"{k}'s head pushed after its next: {pushes}"
        assert [n for n, _ in pushes].count(1) == 1, f"{k}1 pushed twice: {pushes}"
