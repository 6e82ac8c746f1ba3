"""Kafka clients' request and record counts, read from librdkafka's statistics."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.registry import CollectorRegistry

from hookhouse.common.traffic import KafkaTraffic, traffic

REPORT = {
    "name": "hookhouse#producer-1",
    "brokers": {
        "127.0.0.1:7792/1": {"req": {"Produce": 40, "Fetch": 0, "Metadata": 2}},
        "GroupCoordinator": {"req": {"Heartbeat": 3, "OffsetCommit": 5}},
        "odd": "not a broker",
    },
    "topics": {
        "hookhouse.requests": {
            "partitions": {
                "0": {"txmsgs": 10, "rxmsgs": 0},
                "1": {"txmsgs": 7, "rxmsgs": 4},
                "-1": {"txmsgs": 99, "rxmsgs": 99},
            }
        },
        "broken": {"partitions": []},
    },
}


def test_requests_are_summed_over_brokers_and_records_over_partitions() -> None:
    counts = traffic(REPORT)
    assert counts.requests == {"Produce": 40, "Metadata": 2, "Heartbeat": 3, "OffsetCommit": 5}
    assert counts.records == {
        ("hookhouse.requests", "produced"): 17,
        ("hookhouse.requests", "consumed"): 4,
    }


def test_a_report_of_the_wrong_shape_counts_nothing() -> None:
    for odd in ({}, {"brokers": [], "topics": "x"}, {"brokers": {"b": {"req": {"Fetch": -3}}}}):
        assert traffic(odd) == traffic({})


def test_the_latest_report_of_each_client_is_served() -> None:
    collector = KafkaTraffic()
    registry = CollectorRegistry()
    registry.register(collector)
    collector.report_json(b"not json".decode())
    collector.report({"brokers": {}})  # no name: not kept
    collector.report(REPORT)
    collector.report({**REPORT, "brokers": {"b": {"req": {"Produce": 41}}}})
    text = generate_latest(registry).decode()
    assert (
        'hookhouse_kafka_requests_total{client="hookhouse#producer-1",request="Produce"} 41.0'
        in text
    )
    assert "Heartbeat" not in text
    assert (
        'hookhouse_kafka_records_total{client="hookhouse#producer-1",'
        'direction="produced",topic="hookhouse.requests"} 17.0'
    ) in text
