"""The embedded ClickHouse server from the ``chdb-core`` wheel, in a process of its own.

Run as ``python -m hookhouse.stack.clickhouse_server DATA_DIR HTTP_PORT TCP_PORT HOST
[DATABASE READER_PASSWORD_SHA256]``; with the last two, a read-only user
``hookhouse_reader`` may SELECT from DATABASE and nothing else (for analysts).
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


def users_xml(database: str | None, reader_sha256: str | None) -> str:
    """The server's users: ``default`` as chdb has it, and the analysts' reader.

    The reader's profile is ``readonly = 2``: no writes or DDL, but a client may still
    set query settings (clickhouse-connect does).  Its grants name one database.
    """
    reader = ""
    if database and reader_sha256:
        reader = (
            f"<{READER}><password_sha256_hex>{reader_sha256}</password_sha256_hex>"
            "<networks><ip>::/0</ip></networks><profile>reader</profile><quota>default</quota>"
            f"<grants><query>GRANT SELECT ON {database}.*</query></grants></{READER}>"
        )
    return (
        "<clickhouse><profiles><default/><reader><readonly>2</readonly></reader></profiles>"
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
    run_dir = data_dir.parent / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.xml").write_text(config_xml(host, int(http_port), int(tcp_port)))
    (run_dir / "users.xml").write_text(users_xml(database, reader_sha256))
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
