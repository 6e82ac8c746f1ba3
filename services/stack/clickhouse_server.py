"""The embedded ClickHouse server from the ``chdb-core`` wheel, in a process of its own.

Run as ``python -m hookhouse.stack.clickhouse_server [--cluster NAME --shard N --shards
HOST:TCP_PORT,…] DATA_DIR HTTP_PORT TCP_PORT HOST [DATABASE READER_PASSWORD_SHA256
[MAX_SECONDS MAX_MEMORY_BYTES MAX_ROWS]]``; with a cluster, the server is shard N
(1-based) of a ``remote_servers`` cluster of one replica per shard, which its
``Distributed`` tables and ``cluster()`` reach over the native port (chdb's server has
no interserver replication and no Keeper, so no ``ON CLUSTER`` and no replicated
tables).  With the database and password, a read-only user ``hookhouse_reader`` may
SELECT from DATABASE and nothing else (for analysts), each query within the limits given
(or the defaults of ``ReaderLimits``), which the user cannot raise.
Facts from DESIGN section 6: with a ``config.xml`` in the working directory, a query
that first runs ``SYSTEM START LISTEN QUERIES ALL`` and then blocks reading a FIFO
keeps the server answering on its HTTP and native ports until a line is written to
that FIFO.  This is a private entry point of chdb; the smoke test in
``tests/integration/test_clickhouse_server.py`` fails loudly if an upgrade breaks it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

STOP_FIFO = "stop.fifo"


@dataclass(frozen=True)
class Cluster:
    """A ``remote_servers`` cluster of one replica per shard, and which shard this is."""

    name: str
    shard: int  # 1-based
    addresses: tuple[str, ...]  # host:tcp_port of every shard, in shard order

    def xml(self) -> str:
        shards = "".join(
            f"<shard><replica><host>{host}</host><port>{port}</port></replica></shard>"
            for host, _, port in (address.rpartition(":") for address in self.addresses)
        )
        return (
            f"<remote_servers><{self.name}>{shards}</{self.name}></remote_servers>"
            f"<macros><shard>{self.shard}</shard><replica>{self.shard}</replica></macros>"
        )


SHARD_PORT_STEP = 10


def shard_ports(http_port: int, tcp_port: int, shard: int) -> tuple[int, int]:
    """The ports of shard ``shard`` (1-based) of a local cluster: the first shard's, then
    10 higher per shard (7723 and 7790, 7733 and 7800, …)."""
    step = SHARD_PORT_STEP * (shard - 1)
    return http_port + step, tcp_port + step


# The server's memory worker checks its memory use 20 times a second by default: a
# third of an idle embedded server's CPU.  Twice a second is plenty for a local stack.
MEMORY_WORKER_PERIOD_MS = 500


def config_xml(host: str, http_port: int, tcp_port: int, cluster: Cluster | None = None) -> str:
    return (
        f"<clickhouse><listen_host>{host}</listen_host><http_port>{http_port}</http_port>"
        f"<tcp_port>{tcp_port}</tcp_port>"
        f"<memory_worker_period_ms>{MEMORY_WORKER_PERIOD_MS}</memory_worker_period_ms>"
        "<user_directories><users_xml><path>users.xml</path></users_xml></user_directories>"
        f"{cluster.xml() if cluster else ''}</clickhouse>"
    )


READER = "hookhouse_reader"


@dataclass(frozen=True)
class ReaderLimits:
    """What one analyst's query may take, so none starves the API's queries."""

    seconds: int = 30
    memory_bytes: int = 2 * 1024**3
    rows: int = 1_000_000  # of a result

    def profile(self) -> str:
        """Settings of the reader's profile, and constraints that keep a client (which
        ``readonly = 2`` lets set query settings) from raising them."""
        limits = {
            "max_execution_time": self.seconds,
            "max_memory_usage": self.memory_bytes,
            "max_result_rows": self.rows,
            "max_concurrent_queries_for_user": 4,
        }
        values = "".join(f"<{name}>{value}</{name}>" for name, value in limits.items())
        # 0 means "no limit" to ClickHouse, so each needs a floor as well as a ceiling.
        caps = "".join(
            f"<{name}><min>1</min><max>{value}</max></{name}>" for name, value in limits.items()
        )
        return (
            f"<readonly>2</readonly>{values}<result_overflow_mode>throw</result_overflow_mode>"
            f"<constraints>{caps}<result_overflow_mode><readonly/></result_overflow_mode>"
            "</constraints>"
        )


def users_xml(
    database: str | None, reader_sha256: str | None, limits: ReaderLimits | None = None
) -> str:
    """The server's users: ``default`` as chdb has it, and the analysts' reader.

    The reader's profile is ``readonly = 2``: no writes or DDL, but a client may still
    set query settings (clickhouse-connect does) within the profile's constraints.  Its
    grants name one database.
    """
    reader = ""
    if database and reader_sha256:
        reader = (
            f"<{READER}><password_sha256_hex>{reader_sha256}</password_sha256_hex>"
            "<networks><ip>::/0</ip></networks><profile>reader</profile><quota>default</quota>"
            f"<grants><query>GRANT SELECT ON {database}.*</query></grants></{READER}>"
        )
    return (
        f"<clickhouse><profiles><default/><reader>{(limits or ReaderLimits()).profile()}</reader>"
        "</profiles>"
        "<users><default><password></password><networks><ip>::/0</ip></networks>"
        "<profile>default</profile><quota>default</quota></default>"
        f"{reader}</users><quotas><default/></quotas></clickhouse>"
    )


def request_stop(run_dir: Path) -> None:
    """Ask a running server to return (and so its process to exit)."""
    fifo = run_dir / STOP_FIFO
    fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    try:
        os.write(fd, b"stop\n")
    finally:
        os.close(fd)


def _stop_on_signal(run_dir: Path, signals: set[signal.Signals]) -> None:
    signal.sigwait(signals)
    request_stop(run_dir)


def _watch_parent(run_dir: Path, parent: int) -> None:
    """Stop the server when the process that started it is gone (no orphans)."""
    while os.getppid() == parent:
        time.sleep(1)
    request_stop(run_dir)


def arguments(argv: list[str]) -> tuple[list[str], Cluster | None]:
    """The positional arguments, and the cluster the options describe (if any)."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--cluster")
    options.add_argument("--shard", type=int, default=1)
    options.add_argument("--shards", default="")
    known, positional = options.parse_known_args(argv)
    if not known.cluster:
        return positional, None
    return positional, Cluster(known.cluster, known.shard, tuple(known.shards.split(",")))


def main() -> None:
    args, cluster = arguments(sys.argv[1:])
    data_dir, http_port, tcp_port, host = Path(args[0]).resolve(), args[1], args[2], args[3]
    database, reader_sha256 = (args[4], args[5]) if len(args) > 5 else (None, None)
    limits = ReaderLimits(*map(int, args[6:9])) if len(args) > 8 else ReaderLimits()
    run_dir = data_dir.parent / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.xml").write_text(config_xml(host, int(http_port), int(tcp_port), cluster))
    (run_dir / "users.xml").write_text(users_xml(database, reader_sha256, limits))
    fifo = run_dir / STOP_FIFO
    if not fifo.exists():
        os.mkfifo(fifo)
    os.chdir(run_dir)
    # The main thread will sit inside the blocking query, where Python signal handlers
    # never run.  So SIGTERM and SIGINT are blocked here (every thread started later,
    # chdb's included, inherits the mask) and a thread takes them with sigwait.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    threading.Thread(target=_stop_on_signal, args=(run_dir, stop_signals), daemon=True).start()
    threading.Thread(target=_watch_parent, args=(run_dir, os.getppid()), daemon=True).start()

    from chdb import _chdb

    _chdb.query(  # type: ignore[attr-defined]
        f"SYSTEM START LISTEN QUERIES ALL; SELECT count() FROM file('{fifo}', 'LineAsString')",  # noqa: S608 - our own path
        "TabSeparated",
        path=str(data_dir),
    )


if __name__ == "__main__":
    main()
