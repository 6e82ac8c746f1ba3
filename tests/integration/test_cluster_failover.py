"""A broker, a router, a deliverer and a ClickHouse shard killed (SIGKILL) in turn under a
steady trickle, on a cluster: three brokers, two ClickHouse shards, two processes per
stage (issue 28 item 4).  Every webhook ingest accepted is delivered, each copy under
one ``Idempotency-Key``, and stored in ClickHouse once the shard is back; ingest answers
no 5xx while the broker is down.

Its own stack on ports 28300-28399 (``bench/failover.py``, which runs the same scenario
longer for BENCHMARKS.md).  The time until delivery resumed after each kill and the
latency are printed (``failover: …``), never asserted: the machine is shared.  The
same kills with one process per stage are ``test_failover.py``'s.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from bench.failover import cluster_kills, scenario, stack_up, table

pytestmark = pytest.mark.integration

RATE = 20  # webhooks per second
HOLD_SECONDS = 4.0  # "during" each kill, then "after" it


def test_nothing_accepted_is_lost_while_parts_of_the_cluster_die(tmp_path: Path) -> None:
    with stack_up(tmp_path / "home", workers=2) as stack:
        run = scenario(stack, cluster_kills(), RATE, HOLD_SECONDS)
    print(f"failover:\n{table(run.phases)}")
    broker = run.phases[0]
    assert broker.kill.child.startswith("kafka")
    assert broker.figures["5xx"] == 0, "ingest answered 5xx while a broker was down"
    # Every request delivered (the scenario waited for it) and stored: a duplicate is
    # the same event again, with the same key.
    keys: dict[str, set[str]] = defaultdict(set)
    for got in run.receiver.snapshot():
        request = got.headers.get("x-hookhouse-request-id")
        if request is not None:
            keys[request].add(got.headers["idempotency-key"])
    accepted = run.load.accepted()
    assert accepted <= set(keys)
    assert all(len(keys[request]) == 1 for request in accepted)
    assert len(accepted) > RATE * HOLD_SECONDS * len(run.phases)
