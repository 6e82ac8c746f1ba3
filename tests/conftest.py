from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from hookhouse.common.clickhouse import migrate
from hookhouse.common.kafka import ensure_topics
from hookhouse.common.settings import Settings
from hookhouse.ingest.app import build_app as ingest_app
from tests.api_client import Tenants, running_api
from tests.e2e.running import Stack
from tests.receiver import Receiver
from tests.stack import Infra, KafkaCluster, free_port, isolated_settings


@pytest.fixture(scope="session")
def infra() -> Iterator[None]:
    stack = Infra()
    stack.start()
    yield
    stack.stop()


@pytest.fixture(scope="module")
def settings(infra: None) -> Settings:
    """Per test module: its own topic prefix and ClickHouse database, migrated."""
    made = isolated_settings()
    ensure_topics(made)
    migrate(made)
    return made


@pytest.fixture(scope="module")
def kafka_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    """Three Kafka brokers of the module's own (ports 28092 to 28097), stopped after it."""
    cluster = KafkaCluster(tmp_path_factory.mktemp("kafka-cluster"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole stack as ``hookhouse up`` starts it, one per end-to-end module (they
    share the stack's ports, so one module at a time)."""
    running = Stack(tmp_path_factory.mktemp("stack") / "home")
    running.up()
    yield running
    if running.process is not None:
        running.down()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture(scope="module")
def tenants(settings: Settings) -> Iterator[Tenants]:
    """The API in-process over the module's topics and database, two projects' callers."""
    with running_api(settings) as made:
        yield made


@pytest.fixture(scope="module")
def ingest(settings: Settings) -> Iterator[TestClient]:
    """Ingest in-process over the module's topics (its operators' port a free one)."""
    app = ingest_app(settings.model_copy(update={"ingest_metrics_port": free_port()}))
    with TestClient(app, base_url="http://ingest") as client:
        yield client
