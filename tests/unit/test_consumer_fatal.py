"""Which consumer errors stop a service (to be restarted) rather than pass."""

from __future__ import annotations

from confluent_kafka import KafkaError

from hookhouse.common.consumer import fatal


def test_the_event_after_a_fatal_error_is_fatal_though_its_flag_is_not_set() -> None:
    error = KafkaError(KafkaError._FATAL, "Fatal error: Broker: Static consumer fenced")
    assert not error.fatal()
    assert fatal(error)


def test_an_error_flagged_fatal_is_fatal() -> None:
    assert fatal(KafkaError(KafkaError.FENCED_INSTANCE_ID, "fenced", fatal=True))


def test_passing_errors_are_not() -> None:
    for code in (
        KafkaError._TRANSPORT,
        KafkaError._PARTITION_EOF,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    ):
        assert not fatal(KafkaError(code))
