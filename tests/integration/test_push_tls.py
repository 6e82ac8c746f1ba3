"""TLS failures name themselves: real TLS servers on loopback (certificates by trustme),
real OpenSSL verdicts, Hookdeck's specific error codes.

A self-signed certificate, a certificate of a CA nobody trusts and a plain HTTP
server answering a TLS client fail the same whatever the machine trusts, so the
deliverer's own pusher meets them.  An expired certificate and one for another host
fail as such only when their CA is trusted (otherwise OpenSSL stops at the unknown
CA), so those connect with the test CA trusted and their exceptions go through the
same :func:`error_code_of`."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
import trustme

from hookhouse.common.domain.retry import RetryPolicy
from hookhouse.common.domain.ssrf import parse_networks
from hookhouse.common.outbound import guarded_connector
from hookhouse.common.settings import Settings
from hookhouse.deliverer.push import Pusher, error_code_of
from tests.receiver import Receiver
from tests.security.test_outbound_headers import DELIVERY

pytestmark = pytest.mark.integration  # real sockets and OpenSSL; no broker needed

ALLOWED = parse_networks("127.0.0.1/32")
CA = trustme.CA()
LONG_AGO = datetime.now(UTC) - timedelta(days=400)


async def answer_ok(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
    with contextlib.suppress(OSError):  # a client that refused the handshake is gone
        await writer.drain()
        writer.close()


@contextlib.asynccontextmanager
async def tls_server(configure: trustme.LeafCert | trustme.CA) -> AsyncIterator[int]:
    """A TLS server on 127.0.0.1 presenting ``configure``'s certificate: a leaf (with
    its chain), or a CA's own, self-signed; its port."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    if isinstance(configure, trustme.CA):
        with configure.cert_pem.tempfile() as cert, configure.private_key_pem.tempfile() as key:
            context.load_cert_chain(cert, key)
    else:
        configure.configure_cert(context)
    server = await asyncio.start_server(answer_ok, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def pushed_code(url: str) -> tuple[str, str]:
    """The error code and text of one push of the deliverer's to ``url``."""
    pusher = Pusher(Settings(delivery_timeout_seconds=5.0), ALLOWED, connections=4)
    try:
        got = await pusher.push(DELIVERY, {"id": "des_1", "url": url}, b"{}", RetryPolicy(), {}, "")
    finally:
        await pusher.close()
    return got.error_code, got.body


async def trusting_code(url: str) -> str:
    """The error code of a request to ``url`` with the test CA trusted."""
    context = ssl.create_default_context()
    CA.configure_trust(context)
    async with aiohttp.ClientSession(connector=guarded_connector(ALLOWED)) as session:
        try:
            async with session.post(url, data=b"{}", ssl=context) as response:
                return f"answered {response.status}"
        except aiohttp.ClientError as exc:
            return error_code_of(exc)


def test_a_self_signed_certificate_is_self_signed_cert() -> None:
    async def run() -> tuple[str, str]:
        async with tls_server(trustme.CA()) as port:
            return await pushed_code(f"https://127.0.0.1:{port}/")

    code, text = asyncio.run(run())
    assert code == "SELF_SIGNED_CERT"
    assert "self-signed" in text  # the attempt's body keeps OpenSSL's words


def test_a_certificate_of_an_unknown_ca_is_ssl_error_ca_unknown() -> None:
    async def run() -> tuple[str, str]:
        async with tls_server(CA.issue_cert("127.0.0.1")) as port:
            return await pushed_code(f"https://127.0.0.1:{port}/")

    assert asyncio.run(run())[0] == "SSL_ERROR_CA_UNKNOWN"


def test_tls_to_a_plain_http_server_is_err_ssl_wrong_version_number() -> None:
    with Receiver() as plain:
        url = plain.url.replace("http://", "https://") + "/"
        assert asyncio.run(pushed_code(url))[0] == "ERR_SSL_WRONG_VERSION_NUMBER"


def test_an_expired_certificate_is_ssl_cert_expired() -> None:
    expired = CA.issue_cert(
        "127.0.0.1", not_before=LONG_AGO, not_after=LONG_AGO + timedelta(days=30)
    )

    async def run() -> str:
        async with tls_server(expired) as port:
            return await trusting_code(f"https://127.0.0.1:{port}/")

    assert asyncio.run(run()) == "SSL_CERT_EXPIRED"


def test_a_certificate_for_another_host_is_err_tls_cert_altname_invalid() -> None:
    async def run() -> list[str]:
        async with (
            tls_server(CA.issue_cert("other.example")) as other,
            tls_server(CA.issue_cert("127.0.0.1", "localhost")) as valid,
        ):
            return [
                await trusting_code(f"https://127.0.0.1:{other}/"),  # an IP address
                await trusting_code(f"https://localhost:{other}/"),  # a host name
                await trusting_code(f"https://localhost:{valid}/"),  # the control
            ]

    assert asyncio.run(run()) == [
        "ERR_TLS_CERT_ALTNAME_INVALID",
        "ERR_TLS_CERT_ALTNAME_INVALID",
        "answered 200",
    ]
