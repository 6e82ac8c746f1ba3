"""The embedded ClickHouse server from the ``chdb-core`` wheel, in a process of its own.

Run as ``python -m hookhouse.stack.clickhouse_server DATA_DIR HTTP_PORT TCP_PORT HOST
[DATABASE READER_PASSWORD_SHA256 [MAX_SECONDS MAX_MEMORY_BYTES MAX_ROWS]]``; with the
database and password, a read-only user ``hookhouse_reader`` may SELECT from DATABASE
and nothing else (for analysts), each query within the limits given (or the defaults
of ``ReaderLimits``), which the user cannot raise.
Facts from DESIGN section 6: with a ``config.xml`` in the working directory, a query
that first runs ``SYSTEM START LISTEN QUERIES ALL`` and then blocks reading a FIFO
keeps the server answering on its HTTP and native ports until a line is written to
that FIFO.  This is a private entry point of chdb; the smoke test in
``tests/integration/test_clickhouse_server.py`` fails loudly if an upgrade breaks it.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

STOP_FIFO = "stop.fifo"


def config_xml(host: str, http_port: int, tcp_port: int) -> str:
    return (
        f"<clickhouse><listen_host>{host}</listen_host><http_port>{http_port}</http_port>"
        f"<tcp_port>{tcp_port}</tcp_port>"
        "<user_directories><users_xml><path>users.xml</path></users_xml></user_directories>"
        "</clickhouse>"
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


def main() -> None:
    data_dir, http_port, tcp_port, host = (
        Path(sys.argv[1]).resolve(),
        sys.argv[2],
        sys.argv[3],
        sys.argv[4],
    )
    database, reader_sha256 = (sys.argv[5], sys.argv[6]) if len(sys.argv) > 6 else (None, None)
    limits = ReaderLimits(*map(int, sys.argv[7:10])) if len(sys.argv) > 9 else ReaderLimits()
    run_dir = data_dir.parent / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.xml").write_text(config_xml(host, int(http_port), int(tcp_port)))
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
