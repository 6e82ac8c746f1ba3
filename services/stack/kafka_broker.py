"""Local Apache Kafka brokers in KRaft mode, from the official jars: one, or a cluster.

Maven resolves ``org.apache.kafka:kafka_2.13`` (version pinned in
``deploy/kafka/pom.xml``) into the cache folder once; the storage is formatted on
first start; each broker runs as ``java -cp <libs>/* kafka.Kafka server.properties``.

Every broker of a cluster is also one of its KRaft controllers ("combined" nodes):
three JVMs instead of six on a developer's machine, and a quorum of three voters
that survives the loss of any one node.  Kafka's documentation (4.1, KRaft) calls
combined nodes fit for small uses such as development and "not recommended in
critical deployment environments", where controllers run apart from brokers so that
they can be rolled and scaled apart: a production cluster is deployed so and reached
through ``HOOKHOUSE_KAFKA_BOOTSTRAP``.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
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
# Kafka's defaults are 3 network and 8 request threads.  A local stack's clients keep
# one of each busy at most; measured (issue 32), fewer made no difference idle or under
# load on 2 cores.
NETWORK_THREADS = 1
IO_THREADS = 2


@dataclass(frozen=True)
class Node:
    """One local broker (and controller): its ``node.id``, ports and folder."""

    id: int
    name: str  # of its process in the supervisor, its log and its folder
    port: int
    controller_port: int
    home: Path

    @property
    def data(self) -> Path:
        return self.home / "data"


def nodes(settings: Settings, home: Path) -> list[Node]:
    """The local brokers: ``kafka`` alone, or ``kafka-1`` … ``kafka-N``."""
    ports = zip(settings.kafka_ports, settings.kafka_controller_ports, strict=True)
    made = []
    for number, (port, controller_port) in enumerate(ports, start=1):
        name = "kafka" if settings.kafka_brokers == 1 else f"kafka-{number}"
        made.append(Node(number, name, port, controller_port, home / name))
    return made


def server_properties(settings: Settings, node: Node, data_dir: Path) -> str:
    host = settings.host
    controllers = ",".join(f"{host}:{port}" for port in settings.kafka_controller_ports)
    return "\n".join(
        [
            "process.roles=broker,controller",
            f"node.id={node.id}",
            f"listeners=PLAINTEXT://{host}:{node.port},CONTROLLER://{host}:{node.controller_port}",
            f"advertised.listeners=PLAINTEXT://{host}:{node.port}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            f"controller.quorum.bootstrap.servers={controllers}",
            f"log.dirs={data_dir}",
            # The brokers' own topics (group offsets, transactions) are replicated as
            # hookhouse's are, and so is any topic created without saying.
            f"default.replication.factor={settings.replication_factor}",
            f"min.insync.replicas={settings.min_insync_replicas}",
            f"offsets.topic.replication.factor={settings.replication_factor}",
            "offsets.topic.num.partitions=4",
            f"transaction.state.log.replication.factor={settings.replication_factor}",
            f"transaction.state.log.min.isr={settings.min_insync_replicas}",
            "group.initial.rebalance.delay.ms=0",
            # A broker killed and started again must wait, before it may serve, until the
            # controller gives up on its previous run's session (this many ms from the
            # controller's own start: a fixed wait of 9 s at Kafka's default).
            "broker.session.timeout.ms=3000",
            "broker.heartbeat.interval.ms=1000",
            "auto.create.topics.enable=false",
            f"num.network.threads={NETWORK_THREADS}",
            f"num.io.threads={IO_THREADS}",
            f"message.max.bytes={TOPIC_MAX_MESSAGE_BYTES}",  # hookhouse's topics set it too
            "",
        ]
    )


def prepare(settings: Settings, home: Path) -> list[tuple[Node, list[str]]]:
    """Write each broker's config, format storage on first start; return each
    broker's command."""
    libs = resolve_jars(settings)
    java = [
        "java",
        f"-Xmx{settings.kafka_heap}",
        f"-Xms{settings.kafka_heap}",
        *JVM_PERFORMANCE_OPTIONS,
        f"-Dlog4j2.configurationFile={LOG4J}",
        "-cp",
        f"{libs}/*",
    ]
    brokers = nodes(settings, home)
    for node in brokers:
        node.data.mkdir(parents=True, exist_ok=True)
        properties = node.home / "server.properties"
        properties.write_text(server_properties(settings, node, node.data.resolve()))
    _format(settings, java, brokers)
    return [
        (node, [*java, "kafka.Kafka", str(node.home / "server.properties")]) for node in brokers
    ]


def _format(settings: Settings, java: list[str], brokers: list[Node]) -> None:
    """Format every broker's storage for one new cluster, the first time.

    One broker is its own quorum (``--standalone``); a cluster's nodes are formatted
    with the same cluster id and the same initial voters, each with its directory id.
    """
    blank = [node for node in brokers if not (node.data / "meta.properties").exists()]
    if not blank:
        return
    if len(blank) < len(brokers):
        raise RuntimeError(
            f"{', '.join(str(node.data) for node in blank)} has no Kafka storage while the "
            "other brokers' has: a broker cannot rejoin with empty storage. Remove every "
            f"{brokers[0].home.parent}/kafka-* folder to start an empty cluster"
        )
    if len(brokers) == 1:
        quorum = ["--standalone"]
    else:
        voters = ",".join(
            f"{node.id}@{settings.host}:{node.controller_port}:{kafka_uuid()}" for node in brokers
        )
        quorum = ["--initial-controllers", voters]
    cluster_id = kafka_uuid()
    formatting = [
        subprocess.Popen(
            [
                *java,
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(node.home / "server.properties"),
                *quorum,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for node in brokers  # at once: each is a JVM start
    ]
    for node, process in zip(brokers, formatting, strict=True):
        output, _ = process.communicate()
        if process.returncode:
            raise RuntimeError(f"formatting {node.name}'s storage failed:\n{output}")


def kafka_uuid() -> str:
    """A new id as Kafka writes them (``random-uuid``): 16 random bytes in unpadded
    URL-safe base64, never starting with ``-`` (it would read as an option)."""
    while True:
        text = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()
        if not text.startswith("-"):
            return text
