"""The benchmarks' load generator against a local aiohttp server: what it sends, what it
counts, and how it fails."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from aiohttp import web

from bench import loadgen


@asynccontextmanager
async def server(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def test_posts_the_body_and_headers_over_one_kept_alive_connection() -> None:
    seen: list[tuple[str, str, bytes, int]] = []

    async def handler(request: web.Request) -> web.Response:
        assert request.transport is not None
        peer = request.transport.get_extra_info("peername")[1]
        seen.append((request.path_qs, request.headers["x-n"], await request.read(), peer))
        return web.Response(status=500 if request.headers["x-n"] == "2" else 202)

    async def run() -> list[int]:
        async with (
            server(handler) as url,
            loadgen.Poster(f"{url}/e/src?a=1", b'{"k": 1}', {"x-fixed": "f"}) as poster,
        ):
            return [await poster.post({"x-n": str(n)}) for n in range(4)]

    assert asyncio.run(run()) == [202, 202, 500, 202]
    assert [(path, n, body) for path, n, body, _ in seen] == [
        ("/e/src?a=1", str(n), b'{"k": 1}') for n in range(4)
    ]
    assert len({peer for *_, peer in seen}) == 1  # one connection, reused


def test_concurrent_posts_open_a_connection_each() -> None:
    peers: set[int] = set()

    async def handler(request: web.Request) -> web.Response:
        assert request.transport is not None
        peers.add(request.transport.get_extra_info("peername")[1])
        await asyncio.sleep(0.05)
        return web.Response()

    async def run() -> list[int]:
        async with server(handler) as url, loadgen.Poster(url, b"", {}) as poster:
            return list(await asyncio.gather(*(poster.post({}) for _ in range(5))))

    assert asyncio.run(run()) == [200] * 5
    assert len(peers) == 5


def test_a_refused_connection_and_a_dropped_answer_raise() -> None:
    async def drop(request: web.Request) -> web.Response:
        assert request.transport is not None
        request.transport.close()
        await asyncio.sleep(1)
        return web.Response()

    async def run() -> None:
        async with server(drop) as url, loadgen.Poster(url, b"x", {}) as poster:
            with pytest.raises(loadgen.Failed):
                await poster.post({})
        async with loadgen.Poster("http://127.0.0.1:9", b"x", {}) as poster:
            with pytest.raises(OSError):
                await poster.post({})

    asyncio.run(run())
