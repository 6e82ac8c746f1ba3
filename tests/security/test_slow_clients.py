"""Slow and idle clients are cut off: every hookhouse HTTP server closes a connection
whose request head or body does not arrive in time, and refuses a head too large, so a
few hundred slow clients cannot hold its connections (and file descriptors).

The server under test is the one ``runtime`` builds for every service, on a free port,
with short bounds; each check waits for the server to close the connection, with a
generous socket timeout that only stops a test that would otherwise hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import threading
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hookhouse.common import runtime
from hookhouse.common.settings import Settings

WAIT = 20.0  # seconds a socket waits before the test gives up on the server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def echo(request: Request) -> Response:
    body = await request.body()
    return JSONResponse({"received": len(body)})


BOUNDS = {
    "http_header_timeout_seconds": 0.5,
    "http_body_timeout_seconds": 0.5,
    "http_max_header_bytes": 4096,
    "http_keep_alive_seconds": 1,
    # Ingest's own head limits lie below the server's (settings refuse them otherwise).
    "max_header_bytes": 1024,
    "max_url_bytes": 256,
}


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    settings = Settings(host="127.0.0.1", **BOUNDS)  # type: ignore[arg-type]
    app = Starlette(routes=[Route("/echo", echo, methods=["POST"])])
    chosen = free_port()
    server = runtime.http_server(app, settings, chosen)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive()
        threading.Event().wait(0.02)
    yield chosen
    server.should_exit = True
    thread.join(WAIT)


def connect(port: int) -> socket.socket:
    client = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    client.settimeout(WAIT)
    return client


def read_until_closed(client: socket.socket) -> bytes:
    """Everything the server sends until it closes; TimeoutError if it never does."""
    received = b""
    while chunk := client.recv(65536):
        received += chunk
    return received


def read_answer(client: socket.socket) -> bytes:
    """One whole answer (its head, and its body by its content-length)."""
    raw = b""
    while b"\r\n\r\n" not in raw:
        raw += client.recv(65536)
    head, _, body = raw.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.startswith(b"content-length")
    )
    while len(body) < length:
        body += client.recv(65536)
    return head + b"\r\n\r\n" + body


def answer(raw: bytes) -> tuple[int, Any]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), orjson.loads(body)


REQUEST = b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n\r\n"


def test_a_connection_that_sends_nothing_is_closed(port: int) -> None:
    with connect(port) as client:
        status, body = answer(read_until_closed(client))
    assert (status, body["code"]) == (408, "REQUEST_TIMEOUT")


def test_a_head_sent_a_byte_at_a_time_is_cut_off(port: int) -> None:
    with connect(port) as client:
        client.sendall(b"POST /echo HTTP/1.1\r\nhost: x\r\n")
        for _ in range(int(WAIT / 0.1)):  # a header byte every 0.1 s until answered
            answered, _, _ = select.select([client], [], [], 0.1)
            if answered:
                break
            client.sendall(b"x")
        raw = read_until_closed(client)
    status, body = answer(raw)
    assert (status, body["code"]) == (408, "REQUEST_TIMEOUT")


def test_a_body_that_stops_arriving_is_cut_off(port: int) -> None:
    with connect(port) as client:
        client.sendall(REQUEST % 1000 + b"only part of it")
        assert read_until_closed(client) == b""  # closed, unanswered: the app saw it go


def test_a_head_too_large_is_refused(port: int) -> None:
    with connect(port) as client:
        head = b"POST /echo HTTP/1.1\r\nhost: x\r\n" + b"x-pad: " + b"p" * 8000 + b"\r\n"
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            client.sendall(head)
        status, body = answer(read_until_closed(client))
    assert (status, body["code"]) == (431, "HEADERS_TOO_LARGE")


def test_a_kept_alive_connection_is_answered_and_bounded_too(port: int) -> None:
    with connect(port) as client:  # complete requests are answered; idle, it is closed
        for _ in range(2):
            client.sendall(REQUEST % 3 + b"abc")
            assert read_answer(client).endswith(b'{"received":3}')
        assert read_until_closed(client) == b""
    with connect(port) as client:  # the next request's head is bounded like the first
        client.sendall(REQUEST % 0)
        assert read_answer(client).startswith(b"HTTP/1.1 200")
        client.sendall(b"POST /echo HTTP/1.1\r\nhost: x\r\n")
        status, body = answer(read_until_closed(client))
    assert (status, body["code"]) == (408, "REQUEST_TIMEOUT")


def test_ingest_and_the_api_are_served_with_the_same_bounds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served: list[uvicorn.Config] = []

    def run(server: runtime.Server, sockets: Any = None) -> None:
        served.append(server.config)
        server.started = True  # as if it had served until a stop

    monkeypatch.setattr(runtime.Server, "run", run)
    settings = Settings(**BOUNDS)  # type: ignore[arg-type]
    runtime.serve_app(Starlette(), settings, 1)
    protocol = served[0].http
    assert (protocol.header_seconds, protocol.body_seconds) == (0.5, 0.5)  # type: ignore[union-attr]
    assert protocol.max_header_bytes == 4096  # type: ignore[union-attr]
    assert served[0].timeout_keep_alive == 1
