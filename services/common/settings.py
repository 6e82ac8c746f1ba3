"""Typed settings, read once from ``HOOKHOUSE_*`` environment variables.

Every service builds one :class:`Settings` at start and logs :meth:`Settings.describe`
(secrets masked).  docs/settings.md's table is the user-facing copy of this file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hookhouse.common.domain.limits import payload_max_bytes
from hookhouse.common.domain.schemas import request_max_bytes

DEFAULT_KAFKA_PORT = 7792
DEFAULT_CLICKHOUSE_HTTP_PORT = 7723
# Broker n of the local cluster (0-based) listens on kafka_port + 2n and its controller
# on kafka_controller_port + 2n: with the defaults 7792/7794/7796 and 7793/7795/7797.
BROKER_PORT_STEP = 2
MAX_LOCAL_BROKERS = 9
MAX_LOCAL_WORKERS = 8


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOOKHOUSE_", frozen=True, extra="ignore")

    # Where the local stack keeps its data, logs and stack.env.
    home: Path = Path(".hookhouse")
    # Where downloaded Kafka jars are cached, shared by every home on the machine.
    cache: Path = Path.home() / ".cache" / "hookhouse"
    # Written into the local broker's server.properties too, so a plain host or address.
    host: str = Field(default="127.0.0.1", pattern=r"^[A-Za-z0-9._:\[\]-]+$")
    log_level: str = "INFO"
    # json: one JSON object per line (time, level, service, logger, message, and
    # request_id / event_id where a line is about one); text: for reading by eye.
    log_format: Literal["json", "text"] = "json"

    # Kafka.  Setting kafka_bootstrap (host:port, comma-separated) makes `hookhouse up`
    # use that cluster instead of starting local brokers.
    kafka_bootstrap: str = ""  # default: every local broker, host:kafka_port first
    # How many brokers the cluster has: `hookhouse up` starts that many (each also a
    # KRaft controller), and with three or more topics are replicated (see below).
    kafka_brokers: int = Field(default=1, ge=1, le=MAX_LOCAL_BROKERS)
    kafka_port: int = Field(default=DEFAULT_KAFKA_PORT, ge=1, le=65535)
    kafka_controller_port: int = Field(default=7793, ge=1, le=65535)
    # Each local broker's JVM heap.
    kafka_heap: str = Field(default="512m", pattern=r"^[1-9][0-9]{0,5}[kKmMgG]?$")
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str = ""
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    topic_prefix: str = Field(default="hookhouse.", pattern=r"^[A-Za-z0-9._-]*$")
    topic_partitions: int = Field(default=4, ge=1)
    # Of every topic created (and of the local brokers' internal topics).  Default: 3
    # with three brokers or more, else 1; min_insync_replicas then 2, else 1.
    replication_factor: int = Field(default=1, ge=1)
    min_insync_replicas: int = Field(default=1, ge=1)
    retention_hours: int = Field(default=168, ge=1)
    # How long ingest waits for the broker's acknowledgement before answering 503.
    produce_timeout_seconds: float = Field(default=10.0, gt=0)
    # How long a producer gathers records into one batch before sending: longer means
    # fewer, larger requests (less broker CPU per record), each record waiting longer.
    kafka_linger_ms: float = Field(default=2.0, ge=0, le=1000)
    # Below this many records a second, ingest's and the router's producers send each
    # record at once instead of lingering (0: always linger).  At light load a hop then
    # costs no linger; under load records are batched as before.
    kafka_eager_below: float = Field(default=500.0, ge=0)
    # Codec of every producer's batches: lz4 stores similar webhooks in far fewer
    # bytes; none spares the producers, the broker and the consumers its CPU.
    kafka_compression: Literal["none", "gzip", "snappy", "lz4", "zstd"] = "lz4"
    # A router's or deliverer's fetch is answered as soon as the broker holds
    # ``kafka_fetch_min_bytes`` for it (1: the first record, at once), else after
    # ``kafka_fetch_wait_ms``.  Idle, each consumer sends one fetch per wait (each costs
    # the broker CPU); a larger minimum gathers records under load, each waiting up to
    # the wait per hop.  The wait also bounds how late a partition the deliverer held (a
    # retry tier's record not due yet) is read again after its release.
    kafka_fetch_wait_ms: int = Field(default=2000, ge=1, le=5000)
    kafka_fetch_min_bytes: int = Field(default=1, ge=1, le=16 * 1024 * 1024)
    # This process's name in its consumer groups (static membership): unique per
    # process, the same across its restarts (`hookhouse up`: the service and its slot;
    # Kubernetes: the pod's name).  A process restarted under its name takes its
    # partitions back at once, without a rebalance.  Empty: a new member at each start.
    instance_id: str = Field(default="", pattern=r"^[A-Za-z0-9._-]{0,200}$")
    # How long the broker waits for a consumer that stopped heartbeating (killed, host
    # lost, not restarted) before its partitions go to the others; it heartbeats every
    # third of it.  6 s is the least a broker allows by default
    # (group.min.session.timeout.ms); heartbeats come from librdkafka's own thread, so a
    # busy event loop does not miss them.
    kafka_session_timeout_ms: int = Field(default=6000, ge=1000, le=1_800_000)
    # How long the router, deliverer and sink keep retrying a record while the broker
    # is away before they give up (and stop, leaving their offsets uncommitted).
    background_produce_timeout_seconds: float = Field(default=300.0, gt=0)

    # ClickHouse.  Setting clickhouse_url makes `hookhouse up` use that server instead
    # of starting the embedded one.
    clickhouse_url: str = ""  # default: http://default:@host:clickhouse_http_port
    clickhouse_http_port: int = DEFAULT_CLICKHOUSE_HTTP_PORT
    clickhouse_tcp_port: int = 7790
    # Part of every SQL statement, so only a plain identifier is accepted.
    clickhouse_database: str = Field(default="hookhouse", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    # A cluster of remote_servers (empty: one server).  Its tables are <table>_local on
    # every shard and Distributed tables under the names the services use
    # (services/common/clickhouse_layout.py); replicated: Replicated*MergeTree engines
    # with the {shard} and {replica} macros, which need ClickHouse Keeper.
    clickhouse_cluster: str = Field(default="", pattern=r"^([A-Za-z_][A-Za-z0-9_]*)?$")
    clickhouse_replicated: bool = False
    # Comma-separated HTTP URLs of every server of the cluster: migrations then run each
    # DDL statement on each of them instead of with ON CLUSTER (which needs Keeper).
    clickhouse_shard_urls: str = ""

    # Every HTTP server (ingest, the API, the health servers): how long a client may
    # take to send a request's head (from connecting, or from its first byte), and then
    # its body, before the connection is closed; the largest head; how long an idle
    # kept-alive connection stays open; and how many connections and requests are
    # served at once (0: no bound; beyond it uvicorn answers 503).
    http_header_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    http_body_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    http_max_header_bytes: int = Field(default=128 * 1024, ge=1024, le=1024 * 1024)
    http_keep_alive_seconds: int = Field(default=5, ge=1, le=300)
    http_max_concurrency: int = Field(default=0, ge=0)

    # Service ports (HTTP: the service's API and /healthz, /readyz, /metrics).
    ingest_port: int = 7700
    api_port: int = 7701
    router_port: int = 7702
    deliverer_port: int = 7703
    sink_port: int = 7704
    # `hookhouse up --workers N`: N processes each of router, deliverer and sink.  The
    # first of each listens on the port above; the others from worker_port on, three
    # ports per slot (services/stack/workers.py).
    workers: int = Field(default=1, ge=1, le=MAX_LOCAL_WORKERS)
    worker_port: int = Field(default=7710, ge=1, le=65535)
    # `hookhouse up --prometheus`: a Prometheus server scraping the local stack.
    prometheus: bool = False
    prometheus_port: int = 9090

    # URLs other processes use to reach ingest and the API (printed by `hookhouse up`).
    public_ingest_url: str = ""
    public_api_url: str = ""

    # Days ClickHouse keeps requests, events, attempts and the rest after their
    # creation (a TTL, applied by `hookhouse migrate` and at start); 0 keeps them forever.
    clickhouse_retention_days: int = Field(default=30, ge=0, le=36500)

    # What one query of the embedded server's analysts' user (hookhouse_reader) may take;
    # the user cannot raise them.
    clickhouse_reader_max_seconds: int = Field(default=30, ge=1)
    clickhouse_reader_max_memory_mb: int = Field(default=2048, ge=64)
    clickhouse_reader_max_rows: int = Field(default=1_000_000, ge=1)

    # Fernet keys, comma-separated, that seal the secrets of configuration records on the
    # config topic (services/common/sealing.py); the first seals, any opens.  Empty:
    # written as they are.  `hookhouse up` makes one per home.
    config_keys: SecretStr = SecretStr("")

    # The largest request body the API reads (413 PAYLOAD_TOO_LARGE beyond it); at most
    # 8 MiB, so that what a body writes fits a config record (RECORD_MAX_BYTES, limits.py).
    api_max_body_bytes: int = Field(default=1024 * 1024, ge=1, le=8 * 1024 * 1024)

    # How often the API looks for newly opened issues to notify (webhook notifications).
    issue_notify_interval_seconds: float = Field(default=10.0, gt=0)

    # The most deliveries a second one backfill sends; to a destination with a rate
    # limit, at most half of that limit (the rest stays for its live traffic).
    backfill_per_second: float = Field(default=20.0, gt=0, le=10_000)

    # Ingest
    # Ingest's /metrics (and its probes too) for operators, apart from the port that
    # providers post to: the metrics name every source.
    ingest_metrics_port: int = 7705
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    # A request's headers: at most max_header_count of them, max_header_bytes of names
    # and values together (else 431); its path and query together at most max_url_bytes
    # (else 414).  With the body these bound the record ingest stores, which must leave
    # room for every record made from it (services/common/domain/limits.py): settings that do
    # not are refused at start.
    max_header_count: int = Field(default=100, ge=1)
    max_header_bytes: int = Field(default=64 * 1024, ge=1024)
    max_url_bytes: int = Field(default=16 * 1024, ge=256)
    # Media types ingest accepts (comma-separated; `text/*` matches a family,
    # `application/*+json` a suffix); others are refused with UNSUPPORTED_CONTENT_TYPE.
    ingest_content_types: str = (
        "application/json,application/*+json,application/x-www-form-urlencoded,"
        "application/xml,text/*"
    )

    # Router
    # Limits of one JavaScript transformation run; beyond them that event's
    # transformation fails (TRANSFORMATION_FAILED), nothing else does.
    transformation_cpu_seconds: float = Field(default=1.0, gt=0)
    transformation_memory_mb: int = Field(default=64, ge=8)

    # Deliverer
    delivery_timeout_seconds: float = Field(default=30.0, gt=0)
    deliverer_max_in_flight: int = Field(default=256, ge=1)
    # How long the deliverer's producer gathers its outcome records (attempt rows,
    # retries, dead letters) into one batch.  They are not on a webhook's way to its
    # destination, and a trickle of small batches costs the broker dearly: its CPU per
    # delivery falls steeply as the batches grow.
    deliverer_linger_ms: float = Field(default=100.0, ge=0, le=1000)
    # The same for the router's rows of requests and events on `records` (ClickHouse's
    # copy, not on a webhook's way): its deliveries go out at once, through another
    # producer, and a batch's offsets are done once both producers acknowledged it.
    router_records_linger_ms: float = Field(default=100.0, ge=0, le=1000)
    delivery_header_prefix: str = "x-hookhouse-"
    response_body_limit: int = Field(default=10_000, ge=0)
    # Deliveries waiting for one destination (its rate limit or concurrency) before more
    # of them are set aside in the shortest retry tier, so others are not held up.
    deliverer_max_waiting_per_destination: int = Field(default=64, ge=1)
    # A destination's Retry-After is honoured up to this many seconds.
    retry_after_max_seconds: float = Field(default=3600.0, ge=0)
    # Networks destinations may resolve to although private (SSRF guard), e.g.
    # "10.0.0.0/8,127.0.0.0/8".  `hookhouse up` allows loopback when this is unset.
    destination_allow_networks: str = ""

    # Sink.  Every insert makes a part per table for ClickHouse to merge; it advises
    # about one insert per second (docs/settings.md: what 0.5, 1 and 2 s cost it).
    sink_batch_rows: int = Field(default=5000, ge=1)
    sink_batch_seconds: float = Field(default=1.0, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _local_defaults(cls, data: Any) -> Any:
        """Without an external cluster, point at the local stack's own ports."""
        if not isinstance(data, dict):
            return data
        host = data.get("host") or "127.0.0.1"
        brokers = min(max(_whole(data.get("kafka_brokers"), 1), 1), MAX_LOCAL_BROKERS)
        if not data.get("kafka_bootstrap"):
            first = _whole(data.get("kafka_port"), DEFAULT_KAFKA_PORT)
            ports = broker_ports(first, brokers)
            data["kafka_bootstrap"] = ",".join(f"{host}:{port}" for port in ports)
        if data.get("replication_factor") in (None, ""):
            data["replication_factor"] = 3 if brokers >= 3 else 1
        if data.get("min_insync_replicas") in (None, ""):
            data["min_insync_replicas"] = 2 if _whole(data["replication_factor"], 1) >= 3 else 1
        if not data.get("clickhouse_url"):
            port = data.get("clickhouse_http_port") or DEFAULT_CLICKHOUSE_HTTP_PORT
            data["clickhouse_url"] = f"http://default:@{host}:{port}"
        return data

    @field_validator("kafka_bootstrap")
    @classmethod
    def _bootstrap_list(cls, value: str) -> str:
        """A comma-separated list of brokers (spaces around the commas dropped)."""
        entries = [entry.strip() for entry in value.split(",")]
        if any(not entry or not entry.isprintable() or " " in entry for entry in entries):
            raise ValueError(
                f"kafka_bootstrap must be brokers separated by commas (host:port,host:port), "
                f"not {value!r}"
            )
        return ",".join(entries)

    @model_validator(mode="after")
    def _replicas_can_acknowledge(self) -> Settings:
        """With more in-sync replicas required than there are replicas, every
        ``acks=all`` produce would fail (NOT_ENOUGH_REPLICAS)."""
        if self.min_insync_replicas > self.replication_factor:
            raise ValueError(
                f"min_insync_replicas ({self.min_insync_replicas}) must be at most "
                f"replication_factor ({self.replication_factor})"
            )
        return self

    @model_validator(mode="after")
    def _local_brokers_have_their_own_ports(self) -> Settings:
        ports = [*self.kafka_ports, *self.kafka_controller_ports]
        if len(set(ports)) < len(ports) or max(ports) > 65535:
            raise ValueError(
                f"{self.kafka_brokers} local brokers need ports kafka_port + "
                f"{BROKER_PORT_STEP}n and kafka_controller_port + {BROKER_PORT_STEP}n, all "
                f"different and at most 65535: {self.kafka_port} and "
                f"{self.kafka_controller_port} give {sorted(ports)}"
            )
        return self

    @model_validator(mode="after")
    def _worker_slots_have_ports(self) -> Settings:
        last = self.worker_port + 3 * (self.workers - 1) - 1  # sink of the last slot
        if self.workers > 1 and last > 65535:
            raise ValueError(
                f"{self.workers} workers need worker_port to worker_port + "
                f"{3 * (self.workers - 1) - 1}, at most 65535: worker_port "
                f"{self.worker_port} gives {last}"
            )
        return self

    @model_validator(mode="after")
    def _cluster_settings_name_a_cluster(self) -> Settings:
        if (self.clickhouse_replicated or self.clickhouse_shard_urls) and not (
            self.clickhouse_cluster
        ):
            raise ValueError(
                "clickhouse_replicated and clickhouse_shard_urls need clickhouse_cluster "
                "(the name of the cluster in the servers' remote_servers)"
            )
        return self

    @property
    def clickhouse_shards(self) -> list[str]:
        """The servers that migrations run DDL on one by one (empty: ON CLUSTER, or
        the one server)."""
        return [url.strip() for url in self.clickhouse_shard_urls.split(",") if url.strip()]

    @model_validator(mode="after")
    def _ingest_answers_its_own_head_limits(self) -> Settings:
        """Ingest's header and URL limits are answered (and recorded) by ingest, so the
        server's cut-off on a whole head must lie above them."""
        head = self.max_header_bytes + self.max_url_bytes + 4 * self.max_header_count + 1024
        if self.http_max_header_bytes < head:
            raise ValueError(
                f"http_max_header_bytes ({self.http_max_header_bytes}) must be at least "
                f"{head}: ingest's max_header_bytes and max_url_bytes, with the request "
                "line's and each header's punctuation"
            )
        return self

    @model_validator(mode="after")
    def _requests_fit_a_record(self) -> Settings:
        most = payload_max_bytes(self.max_body_bytes, self.max_header_bytes, self.max_url_bytes)
        room = request_max_bytes()
        if most > room:
            raise ValueError(
                f"max_body_bytes, max_header_bytes and max_url_bytes allow requests of up "
                f"to {most} bytes as a record, and a record made from a request can only "
                f"be {room}: lower them (the body takes 4/3 of its size in base64)"
            )
        return self

    @property
    def kafka_ports(self) -> list[int]:
        """The local brokers' client ports, in node order."""
        return broker_ports(self.kafka_port, self.kafka_brokers)

    @property
    def kafka_controller_ports(self) -> list[int]:
        """The local brokers' KRaft controller ports, in node order."""
        return broker_ports(self.kafka_controller_port, self.kafka_brokers)

    @property
    def ingest_url(self) -> str:
        return self.public_ingest_url or f"http://{self.host}:{self.ingest_port}"

    @property
    def api_url(self) -> str:
        return self.public_api_url or f"http://{self.host}:{self.api_port}"

    @property
    def dashboard_url(self) -> str:
        """The web console, served by the API."""
        return f"{self.api_url}/dashboard"

    def environment(self) -> dict[str, str]:
        """The ``HOOKHOUSE_*`` variables that make the same settings in a child process
        (secrets in clear: for a child's environment, never for a log)."""
        out = {}
        for name, value in self.model_dump().items():
            text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
            out[f"HOOKHOUSE_{name.upper()}"] = text
        return out

    def describe(self) -> dict[str, str]:
        """Every setting as text, secrets masked, for the start-up log line."""
        shown: dict[str, str] = {}
        for name, value in self.model_dump().items():
            if isinstance(value, SecretStr):
                shown[name] = "********" if value.get_secret_value() else ""
            elif name == "clickhouse_url":
                shown[name] = mask_url_password(str(value))
            elif name == "clickhouse_shard_urls":
                shown[name] = ",".join(mask_url_password(url) for url in self.clickhouse_shards)
            else:
                shown[name] = str(value)
        return shown


def broker_ports(first: int, brokers: int) -> list[int]:
    return [first + BROKER_PORT_STEP * n for n in range(brokers)]


def _whole(value: Any, default: int) -> int:
    """``value`` as read from the environment, if it is a whole number; ``default``
    otherwise (the field's own validation then says what is wrong with it)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def mask_url_password(url: str) -> str:
    """``http://user:secret@host`` -> ``http://user:***@host``; other URLs unchanged."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, location = rest.rpartition("@")
    user, has_password, password = credentials.partition(":")
    if not has_password or not password:
        return url
    return f"{scheme}://{user}:***@{location}"


def load(**overrides: Any) -> Settings:
    """The settings from the environment (``overrides`` first: a command's options);
    the keys of the config topic's secrets, when it gives none, from the home's
    ``config.key`` (made by ``hookhouse up`` or ``init``), so every process of one home
    reads what the others sealed."""
    settings = Settings(**overrides)
    key_file = settings.home / "config.key"
    if settings.config_keys.get_secret_value() or not key_file.exists():
        return settings
    return settings.model_copy(update={"config_keys": SecretStr(key_file.read_text().strip())})
