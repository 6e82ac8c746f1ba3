"""A flood of webhooks cannot make every record its own produce request.

Below ``kafka_eager_below`` records a second, ingest and the router send each record at
once (one produce request each, which costs the broker about as much as a large one),
and the deliverer the records ending an ordered key's event (the same ``Pace``, counting
those endings).
Whoever posts faster than that gets batching back, so eager sends are bounded by the
setting, whatever the rate and its pattern.
"""

from __future__ import annotations

import random
from collections import Counter

from hookhouse.common.kafka import Pace


def eager_per_second(pace: Pace, times: list[float]) -> Counter[int]:
    return Counter(int(at) for at in times if pace.light(at))


def test_a_steady_flood_gets_at_most_the_limit_each_second() -> None:
    rng = random.Random(32)
    times = sorted(1_000 + rng.random() * 10 for _ in range(100_000))  # 10,000/s
    sent = eager_per_second(Pace(500), times)
    assert max(sent.values()) < 500
    assert sum(sent.values()) < 500  # after its first second, none at all


def test_bursts_at_second_boundaries_get_at_most_the_limit_each_second() -> None:
    # 499 at the end of one second and 499 at the start of the next, again and again:
    # each second stays under the limit, but together they are not light.
    times = []
    for second in range(1_000, 1_020):
        times += [second + 0.999] * 499 + [second + 1.0] * 499
    sent = eager_per_second(Pace(500), sorted(times))
    assert all(count < 500 for count in sent.values())
    assert sum(sent.values()) <= 2 * 499


def test_a_clock_going_back_never_lifts_the_bound() -> None:
    pace = Pace(10)
    light = [pace.light(at) for at in [5.0] * 20 + [4.0] * 20 + [5.0] * 20]
    assert sum(light) < 3 * 10
