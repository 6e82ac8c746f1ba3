"""What makes delivery resume soon after a process dies, without a broker: the
supervisor's restart backoff, a consumer's place in its group (``/readyz``), and the
group settings every consumer gets."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from hookhouse.common.health import Readiness, routes
from hookhouse.common.kafka import consumer_config
from hookhouse.common.membership import JOINING, Membership, membership
from hookhouse.common.settings import Settings
from hookhouse.stack.restarts import HEALTHY_SECONDS, Backoff


def test_backoff_doubles_while_the_child_keeps_failing() -> None:
    backoff = Backoff()
    delays = []
    now = 0.0
    for _ in range(7):
        backoff.started(now)
        now += 5  # dies 5 s after each start
        delays.append(backoff.exited(now))
        now += delays[-1]
    assert delays == [1, 2, 4, 8, 16, 30, 30]


def test_backoff_starts_over_after_a_healthy_minute() -> None:
    backoff = Backoff()
    backoff.started(0.0)
    assert backoff.exited(1.0) == 1
    backoff.started(2.0)
    assert backoff.exited(3.0) == 2
    backoff.started(5.0)
    assert backoff.exited(5.0 + HEALTHY_SECONDS) == 1  # up a whole minute: a fresh start
    backoff.started(70.0)
    assert backoff.exited(70.0 + HEALTHY_SECONDS - 1) == 2  # a second short of it


def test_backoff_stays_bounded_after_endless_failures() -> None:
    backoff = Backoff()
    for n in range(5000):
        backoff.started(float(n))
        delay = backoff.exited(float(n))
    assert delay == 30


def statistics(**group: Any) -> dict[str, Any]:
    return {"name": "rdkafka#consumer-1", "cgrp": group}


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ({"state": "up", "join_state": "steady", "assignment_size": 4}, Membership("assigned", 4)),
        ({"state": "up", "join_state": "steady", "assignment_size": 0}, Membership("idle", 0)),
        ({"state": "up", "join_state": "wait-join", "rebalance_cnt": 0}, JOINING),
        ({"state": "wait-coord", "join_state": "init"}, JOINING),
        (
            {"state": "up", "join_state": "wait-sync", "rebalance_cnt": 3, "assignment_size": 2},
            Membership("rebalancing", 2),
        ),
        # Reports the code does not expect are read as "not settled", never a crash.
        ({"state": "up", "join_state": "steady", "assignment_size": "4"}, Membership("idle", 0)),
        ({"state": "up", "join_state": "steady", "assignment_size": -1}, Membership("idle", 0)),
        ({"join_state": "steady", "rebalance_cnt": "x"}, JOINING),
    ],
)
def test_membership_is_read_from_the_group_statistics(
    group: dict[str, Any], expected: Membership
) -> None:
    assert membership(statistics(**group)) == expected


def test_a_report_without_a_group_is_joining() -> None:
    assert membership({"name": "x"}) == JOINING
    assert membership({"cgrp": []}) == JOINING


def test_only_a_settled_member_is_ready() -> None:
    assert Membership("assigned", 2).ready
    assert Membership("idle", 0).ready  # a surplus replica: nothing to read, healthy
    assert not Membership("joining").ready
    assert not Membership("rebalancing", 2).ready


@pytest.mark.parametrize(
    ("state", "status", "ready"),
    [
        (Membership("assigned", 3), 200, "ready"),
        (Membership("idle", 0), 200, "ready"),
        (Membership("rebalancing", 3), 503, "not_ready"),
        (JOINING, 503, "not_ready"),
    ],
)
def test_readyz_names_the_group_state_and_healthz_ignores_it(
    state: Membership, status: int, ready: str
) -> None:
    readiness = Readiness({"kafka": lambda: True}, group=lambda: state)
    with TestClient(Starlette(routes=routes(readiness))) as client:
        answer = client.get("/readyz")
        assert answer.status_code == status
        assert answer.json() == {
            "status": ready,
            "checks": {"kafka": True, "group": state.ready},
            "group": state.describe(),
        }
        assert client.get("/healthz").status_code == 200


def test_a_service_without_a_group_keeps_its_readiness_body() -> None:
    body = asyncio.run(Readiness({"kafka": lambda: False}).body())
    assert body == (False, {"status": "not_ready", "checks": {"kafka": False}})


def test_consumers_are_static_members_when_named() -> None:
    named = consumer_config(Settings(instance_id="deliverer-0"), "g")
    assert named["group.instance.id"] == "deliverer-0"
    assert named["group.protocol"] == "classic"
    assert named["session.timeout.ms"] == 6000
    assert named["heartbeat.interval.ms"] == 2000
    assert "group.instance.id" not in consumer_config(Settings(), "g")


@pytest.mark.parametrize("bad", ["a b", "x" * 201, "pod/1", "é"])
def test_an_instance_id_kafka_would_not_take_is_refused_at_start(bad: str) -> None:
    with pytest.raises(ValueError, match="instance_id"):
        Settings(instance_id=bad)
