"""A lean HTTP/1.1 client for the load generators: keep-alive POSTs of one body.

The generators share the 2 cores with what they measure, so what they spend is taken
from it.  aiohttp's client spent ~320 µs of CPU per request at 1,000 requests/s here
(Go's net/http, through vegeta, ~300); this one ~155: it writes each request as one
buffer and lets httptools (uvicorn's C parser) read the answers.  In the end-to-end
benchmark that was a fifth of a core given back to the stack.

Only what a generator needs: one host, POST, a fixed body, a few headers per request,
answers read to their end and counted by status.  Connections are not capped: a request
with no idle connection opens one, so a stalled server still gets the open loop's full
rate, as it would from many senders.
"""

from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import cast
from urllib.parse import urlsplit

import httptools

# Reuse a connection only if it has been idle for less than this: uvicorn closes
# keep-alive connections after 5 s idle, and a request written as that close is on its
# way would fail.
IDLE_SECONDS = 2.0


class Failed(Exception):
    """The request got no complete answer: its connection closed or sent garbage."""


class _Connection(asyncio.Protocol):
    def __init__(self, idle: list[_Connection]) -> None:
        self.idle = idle
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.answer: asyncio.Future[int] | None = None
        self.idle_since = 0.0
        self.open = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self.fail(Failed(f"unreadable answer: {exc}"))

    def on_message_complete(self) -> None:  # httptools' callback
        answer, self.answer = self.answer, None
        if self.parser.should_keep_alive():
            self.idle_since = time.monotonic()
            self.idle.append(self)
        else:
            self.close()
        if answer is not None and not answer.done():
            answer.set_result(self.parser.get_status_code())

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        self.fail(Failed(f"connection closed: {exc or 'by the server'}"))

    def fail(self, exc: Exception) -> None:
        self.close()
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(exc)

    def close(self) -> None:
        self.open = False
        if self.transport is not None:
            self.transport.close()


class Poster:
    """POSTs of ``body`` to ``url`` over a pool of keep-alive connections.

    ``await poster.post(headers)`` sends one with those headers besides the fixed ones
    and returns its status; it raises ``Failed`` or ``OSError`` (``TimeoutError`` too)."""

    def __init__(
        self, url: str, body: bytes, headers: dict[str, str], timeout: float = 60.0
    ) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        fixed = {**headers, "host": parts.netloc, "content-length": str(len(body))}
        self.head = f"POST {target} HTTP/1.1\r\n{lines(fixed)}".encode()
        self.body = body
        self.timeout = timeout
        self.idle: list[_Connection] = []

    async def post(self, headers: dict[str, str]) -> int:
        connection = await self.connection()
        assert connection.transport is not None
        answer: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        connection.answer = answer
        connection.transport.write(self.head + f"{lines(headers)}\r\n".encode() + self.body)
        try:
            async with asyncio.timeout(self.timeout):
                return await answer
        except TimeoutError:
            connection.close()
            raise

    async def connection(self) -> _Connection:
        while self.idle:
            connection = self.idle.pop()  # the most recently used: least likely closed
            if connection.open and time.monotonic() - connection.idle_since < IDLE_SECONDS:
                return connection
            connection.close()
        _, connection = await asyncio.get_running_loop().create_connection(
            lambda: _Connection(self.idle), self.host, self.port
        )
        return connection

    async def __aenter__(self) -> Poster:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        while self.idle:
            self.idle.pop().close()


def lines(headers: dict[str, str]) -> str:
    return "".join(f"{name}: {value}\r\n" for name, value in headers.items())
