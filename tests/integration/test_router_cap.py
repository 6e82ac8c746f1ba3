"""The router process against the real broker: when nearly every request it reads is
dead-lettered, it stops with exit code 4 and says why, instead of emptying the topic
into the DLQ."""

from __future__ import annotations

import subprocess
import sys

import pytest
from confluent_kafka import Producer

from hookhouse.common import topics
from hookhouse.common.kafka import client_config, ensure_topics
from tests.stack import REPO, clean_env, free_port, isolated_settings

pytestmark = pytest.mark.integration


def test_the_router_stops_when_nearly_everything_is_dead_lettered(infra: None) -> None:
    settings = isolated_settings(
        router_dead_letter_window=10, router_dead_letter_max_ratio=0.5, router_port=free_port()
    )
    ensure_topics(settings)
    producer = Producer(client_config(settings))
    for n in range(30):
        producer.produce(topics.name(settings, topics.REQUESTS), b"not json %d" % n, b"src")
    assert producer.flush(10) == 0
    env = {**clean_env(), **settings.environment(), "HOOKHOUSE_LOG_FORMAT": "text"}

    ended = subprocess.run(
        [sys.executable, "-m", "hookhouse.cli", "router"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert ended.returncode == 4, ended.stderr[-2000:]
    assert "of the last 10 requests were dead-lettered; stopping the router" in ended.stderr
