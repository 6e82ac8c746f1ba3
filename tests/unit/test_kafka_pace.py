"""When a producer sends at once: below its rate (``kafka_eager_below``), not above."""

from __future__ import annotations

from hookhouse.common.kafka import Pace


def test_records_below_the_rate_go_at_once() -> None:
    pace = Pace(5)
    assert [pace.light(100.1 + n / 10) for n in range(5)] == [True] * 4 + [False]


def test_a_busy_second_keeps_the_next_one_lingering() -> None:
    pace = Pace(5)
    for n in range(6):
        pace.light(100.0 + n / 10)
    assert not pace.light(101.0)  # the second before sent 6
    assert not pace.light(101.5)


def test_a_quiet_second_makes_it_eager_again() -> None:
    pace = Pace(5)
    for n in range(6):
        pace.light(100.0 + n / 10)
    pace.light(101.0)
    assert pace.light(102.0)  # the second before sent 1
    assert pace.light(110.0)  # after a gap: nothing before it


def test_no_record_is_eager_when_the_rate_is_zero() -> None:
    assert not Pace(0).light(1.0)
