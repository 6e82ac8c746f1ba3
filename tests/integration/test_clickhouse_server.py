"""Smoke test of chdb's private server entry point (DESIGN section 6).

If a chdb-core upgrade changes how the embedded server starts, answers or stops, this
fails loudly instead of the stack hanging.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

import clickhouse_connect
import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from hookhouse.stack import clickhouse_server
from hookhouse.stack.supervisor import http_ok

pytestmark = pytest.mark.integration

HTTP_PORT, TCP_PORT = 17823, 17890


def start(data: Path, *reader: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hookhouse.stack.clickhouse_server",
            str(data),
            str(HTTP_PORT),
            str(TCP_PORT),
            "127.0.0.1",
            *reader,
        ]
    )
    deadline = time.monotonic() + 60
    while not http_ok(f"http://127.0.0.1:{HTTP_PORT}/ping"):
        assert process.poll() is None, "the embedded ClickHouse server exited while starting"
        assert time.monotonic() < deadline, "the embedded ClickHouse server did not answer"
        time.sleep(0.2)
    return process


def stop(process: subprocess.Popen[bytes], data: Path) -> None:
    clickhouse_server.request_stop(data.parent / "run")
    assert process.wait(30) == 0


def test_embedded_server_serves_persists_and_stops(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    process = start(data)
    try:
        client = clickhouse_connect.get_client(host="127.0.0.1", port=HTTP_PORT)
        version = client.command("SELECT version()")
        assert str(version).startswith("26.9."), f"unexpected ClickHouse {version}"
        client.command("CREATE TABLE t (id UInt32) ENGINE = MergeTree ORDER BY id")
        client.insert("t", [[1], [2], [3]], column_names=["id"])
        client.close()
    finally:
        stop(process, data)
    process = start(data)
    try:
        client = clickhouse_connect.get_client(host="127.0.0.1", port=HTTP_PORT)
        assert client.command("SELECT sum(id) FROM t") == 6
        client.close()
    finally:
        stop(process, data)


def test_sigterm_stops_the_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    process = start(data)
    process.terminate()
    assert process.wait(30) == 0


def test_the_analysts_reader_may_only_read_one_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    secret = "reader-secret"
    process = start(data, "hookhouse", hashlib.sha256(secret.encode()).hexdigest())
    try:
        admin = clickhouse_connect.get_client(host="127.0.0.1", port=HTTP_PORT)
        admin.command("CREATE DATABASE hookhouse")
        admin.command("CREATE DATABASE private")
        for db in ("hookhouse", "private"):
            admin.command(f"CREATE TABLE {db}.t (id UInt32) ENGINE = MergeTree ORDER BY id")
            admin.insert(f"{db}.t", [[1], [2]], column_names=["id"])
        admin.close()
        reader = clickhouse_connect.get_client(
            host="127.0.0.1", port=HTTP_PORT, username=clickhouse_server.READER, password=secret
        )
        assert reader.command("SELECT count() FROM hookhouse.t") == 2
        for statement in (
            "INSERT INTO hookhouse.t VALUES (3)",
            "DROP TABLE hookhouse.t",
            "CREATE TABLE hookhouse.u (id UInt32) ENGINE = Memory",
            "SELECT count() FROM private.t",
        ):
            with pytest.raises(DatabaseError):
                reader.command(statement)
        reader.close()
        with pytest.raises(DatabaseError):  # a wrong password is refused
            clickhouse_connect.get_client(
                host="127.0.0.1", port=HTTP_PORT, username=clickhouse_server.READER, password="x"
            )
    finally:
        stop(process, data)
