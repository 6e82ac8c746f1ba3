"""Checking that the ports the local stack needs are free, with an actionable message."""

from __future__ import annotations

import socket


class PortTaken(Exception):
    pass


def is_listening(host: str, port: int, timeout: float = 0.5) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        return sock.connect_ex((host, port)) == 0


def ensure_free(host: str, ports: dict[str, int]) -> None:
    """Raise :class:`PortTaken` naming the port and the setting that moves it."""
    for setting, port in ports.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError as exc:
                raise PortTaken(
                    f"port {port} on {host} is already in use ({exc.strerror}); "
                    f"stop what holds it or set {setting} to a free port"
                ) from exc


def ensure_distinct(ports: dict[str, int]) -> None:
    """Raise :class:`PortTaken` if two of the stack's own ports are the same one (say a
    worker slot's and a ClickHouse shard's), naming both settings."""
    owners: dict[int, str] = {}
    for setting, port in ports.items():
        if port in owners:
            raise PortTaken(
                f"port {port} would serve both {owners[port]} and {setting}; "
                f"set one of them to a port of its own"
            )
        owners[port] = setting


def infrastructure_up(host: str, kafka_port: int, clickhouse_port: int) -> bool:
    """Are Kafka and ClickHouse both listening (True) or neither (False)?

    One without the other is an error, never a reason to start a second stack: the
    test suite and the benchmarks empty their data directory before they start one,
    which would pull it from under the server still running there.
    """
    kafka, clickhouse = is_listening(host, kafka_port), is_listening(host, clickhouse_port)
    if kafka != clickhouse:
        up, down = ("Kafka", "ClickHouse") if kafka else ("ClickHouse", "Kafka")
        raise PortTaken(
            f"{up} is listening on {host} ({kafka_port if kafka else clickhouse_port}) "
            f"but {down} is not ({clickhouse_port if kafka else kafka_port}): a stack "
            f"half stopped? Stop it (or start the missing one) and run again"
        )
    return kafka
