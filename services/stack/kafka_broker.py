"""A single-node Apache Kafka broker in KRaft mode, from the official jars.

Maven resolves ``org.apache.kafka:kafka_2.13`` (version pinned in
``deploy/kafka/pom.xml``) into the cache folder once; the storage is formatted on
first start; the broker runs as ``java -cp <libs>/* kafka.Kafka server.properties``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from hookhouse.common.domain.limits import TOPIC_MAX_MESSAGE_BYTES
from hookhouse.common.settings import Settings

# The local stack runs from a checkout: the broker's pom and log config (and
# Prometheus's files, stack/prometheus.py) are the checkout's, not package data.  An
# installed wheel's services use a Kafka and ClickHouse deployed apart (as in
# docker-compose.yml) and need none of them.
REPO = Path(__file__).resolve().parents[2]
POM = REPO / "deploy" / "kafka" / "pom.xml"
LOG4J = REPO / "deploy" / "kafka" / "log4j2.yaml"


def kafka_version() -> str:
    if not POM.is_file():
        raise RuntimeError(f"the local Kafka broker runs from a checkout of hookhouse: no {POM}")
    match = re.search(r"<kafka.version>([^<]+)</kafka.version>", POM.read_text())
    if match is None:
        raise RuntimeError(f"no <kafka.version> in {POM}")
    return match.group(1)


def libs_dir(settings: Settings) -> Path:
    return settings.cache.expanduser().resolve() / f"kafka-{kafka_version()}" / "libs"


def resolve_jars(settings: Settings) -> Path:
    """Download the broker's jars with Maven, once; return the folder holding them."""
    libs = libs_dir(settings)
    marker = libs / ".complete"
    if marker.exists():
        return libs
    if shutil.which("mvn") is None or shutil.which("java") is None:
        raise RuntimeError(
            "Kafka needs Java 17+ and Maven on PATH (apt-get install openjdk-17-jre-headless maven)"
        )
    libs.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(POM),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={libs}",
            "-DincludeScope=runtime",
        ],
        check=True,
    )
    marker.touch()
    return libs


# What Kafka's own start scripts pass (KAFKA_JVM_PERFORMANCE_OPTS in
# kafka-run-class.sh).  G1's default pause target is 200 ms; a 20 ms target shortens
# its longest young pauses under ingest's load, and each pause holds every produce
# acknowledgement waiting behind it.
JVM_PERFORMANCE_OPTIONS = (
    "-server",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:MaxInlineLevel=15",
    "-Djava.awt.headless=true",
)


def server_properties(settings: Settings, data_dir: Path) -> str:
    host = settings.host
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"listeners=PLAINTEXT://{host}:{settings.kafka_port},CONTROLLER://{host}:"
            f"{settings.kafka_controller_port}",
            f"advertised.listeners=PLAINTEXT://{host}:{settings.kafka_port}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            f"controller.quorum.bootstrap.servers={host}:{settings.kafka_controller_port}",
            f"log.dirs={data_dir}",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=4",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            # A broker killed and started again must wait, before it may serve, until the
            # controller gives up on its previous run's session (this many ms from the
            # controller's own start: a fixed wait of 9 s at Kafka's default).
            "broker.session.timeout.ms=3000",
            "broker.heartbeat.interval.ms=1000",
            "auto.create.topics.enable=false",
            f"message.max.bytes={TOPIC_MAX_MESSAGE_BYTES}",  # hookhouse's topics set it too
            "",
        ]
    )


def prepare(settings: Settings, home: Path) -> list[str]:
    """Write the config, format storage on first start; return the broker command."""
    libs = resolve_jars(settings)
    kafka_home = home / "kafka"
    data_dir = kafka_home / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    properties = kafka_home / "server.properties"
    properties.write_text(server_properties(settings, data_dir.resolve()))
    java = [
        "java",
        f"-Xmx{settings.kafka_heap}",
        f"-Xms{settings.kafka_heap}",
        *JVM_PERFORMANCE_OPTIONS,
        f"-Dlog4j2.configurationFile={LOG4J}",
        "-cp",
        f"{libs}/*",
    ]
    if not (data_dir / "meta.properties").exists():
        cluster_id = (
            subprocess.run(
                [*java, "kafka.tools.StorageTool", "random-uuid"],
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        subprocess.run(
            [
                *java,
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(properties),
                "--standalone",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
    return [*java, "kafka.Kafka", str(properties)]
