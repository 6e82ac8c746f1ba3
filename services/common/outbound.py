"""The one way out: an aiohttp connector that every outbound request goes through.

Deliveries, OAuth2 token requests and anything else a service sends to an address a
tenant chose use :func:`guarded_connector` (DESIGN §9).  The SSRF guard
(:mod:`hookhouse.common.domain.ssrf`) is applied twice, at the two places aiohttp lets one
see an address:

- the resolver drops blocked addresses from a name's answers (and fails with
  ``SsrfBlocked`` when none is left), so a name with one public and one private
  address still connects, to the public one;
- the socket factory checks the address of every socket just before it connects.
  aiohttp never calls the resolver for an IP literal (``http://10.0.0.1/``), and a
  redirect opens a new connection: both pass here, whatever the request's options.

The check is a cached function of the address, so a connection costs a dict lookup.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from hookhouse.common.domain.ssrf import Network, SsrfBlocked, is_blocked


class GuardedResolver(AbstractResolver):
    """DNS resolution that keeps only the addresses the SSRF guard allows."""

    def __init__(self, allowed: tuple[Network, ...]) -> None:
        self._inner = aiohttp.ThreadedResolver()
        self._allowed = allowed

    async def resolve(self, host: str, port: int = 0, family: Any = 0) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        safe = [r for r in results if not is_blocked(r["host"], self._allowed)]
        if not safe:
            raise SsrfBlocked(f"{host} resolves only to addresses that are not allowed")
        return safe

    async def close(self) -> None:
        await self._inner.close()


def guarded_socket_factory(
    allowed: tuple[Network, ...],
) -> Callable[[tuple[Any, ...]], socket.socket]:
    """A socket factory that refuses to make a socket for a blocked address."""

    def make(addr_info: tuple[Any, ...]) -> socket.socket:  # getaddrinfo's 5-tuple
        family, kind, proto, _, address = addr_info
        host = str(address[0])
        if is_blocked(host, allowed):
            raise SsrfBlocked(f"{host} is not an allowed address for outbound requests")
        return socket.socket(family=family, type=kind, proto=proto)

    return make


def guarded_connector(allowed: tuple[Network, ...], limit: int = 100) -> aiohttp.TCPConnector:
    """A connector whose every connection passes the SSRF guard (``allowed``: the
    networks of ``HOOKHOUSE_DESTINATION_ALLOW_NETWORKS``)."""
    return aiohttp.TCPConnector(
        limit=limit,
        ttl_dns_cache=60,
        resolver=GuardedResolver(allowed),
        socket_factory=guarded_socket_factory(allowed),
    )
