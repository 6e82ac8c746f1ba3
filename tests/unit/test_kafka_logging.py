"""librdkafka's own log lines arrive as Python log records, with their level, from every
kind of client the project's config functions build (no broker: a refused connection
on loopback is the line)."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Iterator

import pytest
from confluent_kafka import Consumer, Producer

from hookhouse.common.kafka import (
    LIBRDKAFKA_LOG,
    KafkaProbe,
    client_config,
    consumer_config,
    producer_config,
)
from hookhouse.common.settings import Settings


@pytest.fixture
def refusing() -> Iterator[Settings]:
    """Settings whose broker address refuses connections: a port bound, never listening
    (so nothing else takes it meanwhile)."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield Settings(kafka_bootstrap=f"127.0.0.1:{bound.getsockname()[1]}")


def test_every_client_config_carries_the_logger(refusing: Settings) -> None:
    for config in (
        client_config(refusing),
        producer_config(refusing),
        consumer_config(refusing, "g"),
    ):
        assert config["logger"] is LIBRDKAFKA_LOG


def polled_producer(settings: Settings) -> Callable[[], object]:
    producer = Producer(producer_config(settings))
    return lambda: producer.poll(0.1)


def polled_consumer(settings: Settings) -> Callable[[], object]:
    consumer = Consumer(consumer_config(settings, "g"))
    consumer.subscribe(["nowhere"])
    return lambda: consumer.poll(0.1)


def probed_admin(settings: Settings) -> Callable[[], object]:
    probe = KafkaProbe(settings)  # an admin client, never polled but by the probe
    return lambda: probe(0.1)


@pytest.mark.parametrize("client", [polled_producer, polled_consumer, probed_admin])
def test_a_refused_connection_is_an_error_record(
    client: Callable[[Settings], Callable[[], object]],
    refusing: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger=LIBRDKAFKA_LOG.name)
    use = client(refusing)
    deadline = time.monotonic() + 10
    while not caplog.records and time.monotonic() < deadline:
        use()
    assert caplog.records, "no log line of librdkafka arrived"
    record = caplog.records[0]
    assert record.name == "hookhouse.librdkafka"
    assert record.levelno == logging.ERROR  # librdkafka's LOG_ERR
    assert record.getMessage().startswith("FAIL [hookhouse#")
    assert "Connection refused" in record.getMessage()
