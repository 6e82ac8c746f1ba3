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
