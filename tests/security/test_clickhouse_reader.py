"""The analysts' read-only ClickHouse user cannot starve the API: each query is bounded
in time, memory and rows of result, and the user cannot raise those bounds (the
embedded server, started as `hookhouse up` starts it)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import clickhouse_connect
import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from hookhouse.stack import clickhouse_server
from tests.integration.test_clickhouse_server import HTTP_PORT, start, stop

pytestmark = pytest.mark.integration


def test_an_analysts_query_stays_within_limits_it_cannot_raise(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    secret = "reader-secret"
    digest = hashlib.sha256(secret.encode()).hexdigest()
    # clickhouse-connect reads system.settings (about 2,000 rows) when it connects.
    process = start(data, "hookhouse", digest, "1", str(256 * 1024**2), "5000")
    try:
        admin = clickhouse_connect.get_client(host="127.0.0.1", port=HTTP_PORT)
        admin.command("CREATE DATABASE hookhouse")
        admin.command("CREATE TABLE hookhouse.t (id UInt32) ENGINE = MergeTree ORDER BY id")
        admin.insert("hookhouse.t", [[n] for n in range(6000)], column_names=["id"])
        admin.close()
        reader = clickhouse_connect.get_client(
            host="127.0.0.1", port=HTTP_PORT, username=clickhouse_server.READER, password=secret
        )
        assert reader.command("SELECT count() FROM hookhouse.t") == 6000
        refused = {
            "rows": "SELECT id FROM hookhouse.t",
            "time": "SELECT count() FROM hookhouse.t a, hookhouse.t b, hookhouse.t c",
        }
        for what, statement in refused.items():
            with pytest.raises(DatabaseError) as failed:
                reader.query(statement)
            expected = "TOO_MANY_ROWS" if what == "rows" else "TIMEOUT_EXCEEDED|TOO_SLOW"
            assert re.search(expected, str(failed.value)), failed.value
        # In the SQL: clickhouse-connect itself leaves out settings the server marks as
        # not changeable, so the server's refusal is tested here.
        for setting in (
            "max_execution_time = 3600",
            "max_execution_time = 0",  # no limit, to ClickHouse
            f"max_memory_usage = {64 * 1024**3}",
            "max_result_rows = 0",
            "result_overflow_mode = 'break'",
        ):
            with pytest.raises(DatabaseError, match="SETTING_CONSTRAINT_VIOLATION"):
                reader.query(f"SELECT count() FROM hookhouse.t SETTINGS {setting}")  # noqa: S608
        reader.close()
    finally:
        stop(process, data)
