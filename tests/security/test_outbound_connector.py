"""Hardening class 4, the connector every outbound request uses, on loopback only:
127.0.0.1 is allowed here, 127.0.0.2 (loopback too, so nothing leaves the machine)
stands for an address that is not."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from hookhouse.common.domain.ssrf import SsrfBlocked, parse_networks
from hookhouse.common.outbound import guarded_connector
from tests.receiver import Answer, Receiver

ALLOWED = parse_networks("127.0.0.1/32")


async def post(url: str, allowed: str = "127.0.0.1/32", **options: object) -> int:
    connector = guarded_connector(parse_networks(allowed))
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.post(url, data=b"{}", **options) as response,  # type: ignore[arg-type]
    ):
        return response.status


def refused(url: str, allowed: str = "127.0.0.1/32", **options: object) -> None:
    with pytest.raises(aiohttp.ClientConnectorError) as caught:
        asyncio.run(post(url, allowed, **options))
    assert isinstance(caught.value.os_error, SsrfBlocked)


def test_an_ip_literal_is_checked_though_no_name_is_resolved() -> None:
    with Receiver(host="127.0.0.2") as other, Receiver() as receiver:
        refused(other.url + "/literal")
        refused(other.url.replace("127.0.0.2", "[::ffff:127.0.0.2]") + "/mapped")
        assert other.snapshot() == []
        # The allowed address, by literal and by name (localhost is 127.0.0.1 and ::1
        # here: the guard keeps the allowed one).
        port = receiver.url.rsplit(":", 1)[1]
        assert asyncio.run(post(receiver.url + "/a")) == 200
        assert asyncio.run(post(f"http://localhost:{port}/b")) == 200
        assert [got.path for got in receiver.snapshot()] == ["/a", "/b"]


def test_nothing_is_allowed_without_the_allow_list() -> None:
    with Receiver() as receiver:
        refused(receiver.url, allowed="")
        port = receiver.url.rsplit(":", 1)[1]
        with pytest.raises(aiohttp.ClientConnectorError) as caught:
            asyncio.run(post(f"http://localhost:{port}/", allowed=""))
        assert isinstance(caught.value.os_error, SsrfBlocked)
        assert receiver.snapshot() == []


def test_a_redirect_to_an_address_that_is_not_allowed_is_not_followed() -> None:
    with Receiver(host="127.0.0.2") as other:
        moved = Answer(status=307, headers={"location": other.url + "/token"})
        with Receiver(lambda _: moved) as receiver:
            refused(receiver.url + "/start", allow_redirects=True)
            assert [got.path for got in receiver.snapshot()] == ["/start"]
        assert other.snapshot() == []
