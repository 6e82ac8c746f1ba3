"""The SSRF guard: which addresses a destination may resolve to; pure.

Private, loopback, link-local (cloud metadata at 169.254.169.254 included), shared,
reserved, multicast and unspecified addresses are refused unless a network in
``HOOKHOUSE_DESTINATION_ALLOW_NETWORKS`` contains them.  The deliverer checks the
address it actually connects to, after DNS resolution.
"""

from __future__ import annotations

import functools
import ipaddress

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class SsrfBlocked(OSError):
    """The destination resolved to an address that is not allowed."""


def parse_networks(text: str) -> tuple[Network, ...]:
    """``"127.0.0.0/8, ::1/128"`` -> networks; raises ValueError naming a bad entry."""
    networks = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError as exc:
            raise ValueError(f"'{part}' is not a network (example: 10.0.0.0/8)") from exc
    return tuple(networks)


@functools.lru_cache(maxsize=4096)
def is_blocked(address: str, allowed: tuple[Network, ...]) -> bool:
    ip: Address = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in allowed):
        return False
    return not ip.is_global or ip.is_multicast


@functools.lru_cache(maxsize=4096)
def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
