"""uvicorn's HTTP protocol with the read deadlines it lacks, so slow clients cannot
hold a service's connections (and file descriptors) for long.

uvicorn times out only a connection idle *between* requests (``timeout_keep_alive``,
armed when a response ends).  A connection that opens and sends nothing, or sends its
head or body a byte at a time, is never timed out: a few hundred of them would hold
ingest's descriptors for as long as they like.  This protocol adds three bounds:

- the request head (request line and headers) must be complete within
  ``header_seconds`` of the connection opening or of the request's first byte;
  otherwise ``408`` and the connection is closed;
- the head may hold at most ``max_header_bytes`` (give or take one read of the socket);
  otherwise ``431`` and close;
- the body must be complete within ``body_seconds`` of the head; otherwise the
  connection is closed (the app, reading the body, sees the client disconnect).

The answers are JSON in the services' error shape.  Everything else is uvicorn's.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)

REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


def refusal(status: int, code: str, message: str) -> bytes:
    """A whole HTTP/1.1 answer that closes the connection."""
    body = orjson.dumps({"handled": True, "status": status, "code": code, "message": message})
    head = (
        b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
        b"connection: close\r\n\r\n" % (status, REASONS[status], len(body))
    )
    return head + body


class DeadlinedHttp(HttpToolsProtocol):
    """Set the three bounds on a subclass (see :func:`deadlined`).

    A request only notes when its current phase (head, then body) must end: one timer per
    connection looks every quarter of the shorter bound, so a deadline is kept give or
    take that quarter.  A timer armed and cancelled per phase was a measurable part of
    ingest's whole work on a request (BENCHMARKS.md, "Hardening")."""

    header_seconds: float = 10.0
    body_seconds: float = 30.0
    max_header_bytes: int = 64 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._watch: asyncio.TimerHandle | None = None
        self._ends_at: float | None = None  # when the current phase must be over
        self._phase = "head"
        self._in_head = True  # between a request's first byte (or the connection) and its head
        self._head_bytes = 0

    def _due(self, phase: str, seconds: float) -> None:
        self._phase, self._ends_at = phase, self.loop.time() + seconds

    def _look(self) -> None:
        self._watch = None
        if self.transport.is_closing():
            return
        if self._ends_at is not None and self.loop.time() >= self._ends_at:
            return self._expire(self._phase)
        every = min(self.header_seconds, self.body_seconds) / 4
        self._watch = self.loop.call_later(every, self._look)

    def _expire(self, expired: str) -> None:
        log.info("closed a connection from %s: its %s was too slow", self.client, expired)
        answering = self.cycle is not None and not self.cycle.response_complete
        if expired == "head" and not answering:  # not into a pipelined answer's bytes
            message = f"The request head did not arrive within {self.header_seconds:g} s."
            self.transport.write(refusal(408, "REQUEST_TIMEOUT", message))
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._due("head", self.header_seconds)
        self._look()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self._in_head or self.transport.is_closing():
            return
        # Bytes read while the head is still incomplete are head (httptools buffers a
        # header until it is whole, so counting its callbacks would come too late).
        self._head_bytes += len(data)
        if self._head_bytes > self.max_header_bytes:
            self._ends_at = None
            log.info("closed a connection from %s: its request head was too large", self.client)
            message = f"The request head is larger than {self.max_header_bytes} bytes."
            self.transport.write(refusal(431, "HEADERS_TOO_LARGE", message))
            self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if not self._in_head:  # a later request on a kept-alive connection
            self._in_head, self._head_bytes = True, 0
        if self._ends_at is None:  # else: due since the connection opened
            self._due("head", self.header_seconds)

    def on_headers_complete(self) -> None:
        self._in_head, self._head_bytes = False, 0
        self._due("body", self.body_seconds)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._ends_at = None
        super().on_message_complete()


def deadlined(
    header_seconds: float, body_seconds: float, max_header_bytes: int
) -> type[DeadlinedHttp]:
    """The protocol class for uvicorn's ``http`` setting, with these bounds."""

    class Bounded(DeadlinedHttp):
        pass

    Bounded.header_seconds = header_seconds
    Bounded.body_seconds = body_seconds
    Bounded.max_header_bytes = max_header_bytes
    return Bounded
