"""The SSRF guard: which addresses an outbound connection may go to; pure.

Every address in IANA's IPv4 and IPv6 Special-Purpose Address Registries is refused
(private, shared, loopback, link-local with the cloud metadata at 169.254.169.254,
"this network" 0.0.0.0/8, documentation, benchmarking, reserved, the protocol
assignments of 192.0.0.0/24 and 2001::/23, discard-only, unique-local, SRv6),
multicast too, and every IPv6 address outside global unicast 2000::/3 — unless a network
in ``HOOKHOUSE_DESTINATION_ALLOW_NETWORKS`` contains it.  The registry's few "globally
reachable" entries (AS112, AMT, anycast relays) are refused as well: no webhook
destination lives there, and a shorter list of exceptions is a smaller surface.

IPv6 forms that carry an IPv4 address are judged by it: IPv4-mapped ``::ffff:a.b.c.d``
is that IPv4 address for the kernel (the allow list applies to it); NAT64
``64:ff9b::a.b.c.d`` and 6to4 ``2002:aabb:ccdd::`` reach the embedded address, so they
are refused when it is (RFC 6052 forbids NAT64 forms of non-global addresses anyway);
the deprecated IPv4-compatible ``::a.b.c.d`` (RFC 4291) is always refused, as is the
local-use NAT64 prefix 64:ff9b:1::/48.

Pure: the connector of :mod:`hookhouse.common.outbound` calls it with the address it is
about to connect to, after DNS resolution, for IP literals and redirects alike.
"""

from __future__ import annotations

import functools
import ipaddress

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class SsrfBlocked(OSError):
    """An outbound connection would go to an address that is not allowed."""


def _networks(*text: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(t) for t in text)


# IANA IPv4 Special-Purpose Address Registry (every entry), plus multicast.
IPV4_SPECIAL = _networks(
    "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches the local host on Linux
    "10.0.0.0/8",
    "100.64.0.0/10",  # shared address space (carrier-grade NAT)
    "127.0.0.0/8",
    "169.254.0.0/16",  # link-local, cloud metadata
    "172.16.0.0/12",
    "192.0.0.0/24",  # IETF protocol assignments (DS-Lite, NAT64 discovery, anycast)
    "192.0.2.0/24",
    "192.31.196.0/24",  # AS112-v4
    "192.52.193.0/24",  # AMT
    "192.88.99.0/24",  # deprecated 6to4 relay anycast
    "192.168.0.0/16",
    "192.175.48.0/24",  # AS112 direct delegation
    "198.18.0.0/15",  # benchmarking
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, 255.255.255.255 included
)
# IANA IPv6 Special-Purpose Address Registry, the entries outside 2000::/3 too (those are
# refused by the global-unicast rule already; listed so the table reads as the registry).
IPV6_SPECIAL = _networks(
    "::/128",
    "::1/128",
    "::/96",  # IPv4-compatible, deprecated (not in the registry; refused whole)
    "64:ff9b:1::/48",  # local-use IPv4/IPv6 translation
    "100::/64",  # discard-only
    "100:0:0:1::/64",  # dummy prefix
    "2001::/23",  # IETF protocol assignments (Teredo, ORCHID, benchmarking, anycast)
    "2001:db8::/32",
    "2620:4f:8000::/48",  # AS112 direct delegation
    "3fff::/20",  # documentation
    "5f00::/16",  # SRv6 SIDs
    "fc00::/7",  # unique local
    "fe80::/10",  # link-local
    "fec0::/10",  # site-local, deprecated
    "ff00::/8",  # multicast
)
GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # the embedded IPv4 is the low 32 bits
SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")  # the embedded IPv4 is bits 16-47
IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


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


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a NAT64 or 6to4 address reaches, if it is one."""
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def is_special(ip: Address) -> bool:
    """In a special-purpose range (or, for IPv6, outside global unicast)?"""
    if isinstance(ip, ipaddress.IPv4Address):
        return any(ip in network for network in IPV4_SPECIAL)
    if ip.ipv4_mapped is not None:
        return is_special(ip.ipv4_mapped)
    inner = embedded_ipv4(ip)
    if inner is not None:
        return is_special(inner)
    return ip not in GLOBAL_UNICAST or any(ip in network for network in IPV6_SPECIAL)


@functools.lru_cache(maxsize=4096)
def is_blocked(address: str, allowed: tuple[Network, ...]) -> bool:
    """May nothing connect to ``address`` (an IP address, an IPv6 zone allowed)?

    Anything that is not an IP address is blocked: there is nothing safe to connect to."""
    try:
        ip: Address = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # the kernel connects to the IPv4 address itself
    if any(ip in network for network in allowed):
        return False
    return is_special(ip)
