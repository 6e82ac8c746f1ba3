"""Hardening class 4, the guard as a function: IANA's special-purpose registries, the
IPv6 forms that carry an IPv4 address, and the allow list."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from hookhouse.common.domain.ssrf import IPV4_SPECIAL, IPV6_SPECIAL, is_blocked, parse_networks

NONE = parse_networks("")
LOOPBACK = parse_networks("127.0.0.0/8, ::1/128")

IPV4 = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address)
IPV6 = st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address)


def nat64(v4: ipaddress.IPv4Address) -> str:
    return str(ipaddress.IPv6Address((0x64FF9B << 96) | int(v4)))


def six_to_four(v4: ipaddress.IPv4Address) -> str:
    return str(ipaddress.IPv6Address((0x2002 << 112) | (int(v4) << 80) | 1))


def compatible(v4: ipaddress.IPv4Address) -> str:
    return str(ipaddress.IPv6Address(int(v4)))


def mapped(v4: ipaddress.IPv4Address) -> str:
    return str(ipaddress.IPv6Address((0xFFFF << 32) | int(v4)))


def test_the_forms_the_issue_names_are_judged_by_what_they_reach() -> None:
    for address in [
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::1",  # local-use translation
        "64:ff9b:1::808:808",
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "::127.0.0.1",  # IPv4-compatible
        "::8.8.8.8",  # IPv4-compatible, deprecated whatever it embeds
        "::ffff:169.254.169.254",
        "0.0.0.0",
        "::",
        "100::1",
        "5f00::1",
        "3fff::1",
        "2001:db8::1",
        "fe80::1%eth0",
    ]:
        assert is_blocked(address, NONE), address
    for address in ["8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808", "2002:808:808::1"]:
        assert not is_blocked(address, NONE), address


def test_every_registry_block_is_refused_at_both_ends() -> None:
    for network in (*IPV4_SPECIAL, *IPV6_SPECIAL):
        for address in (network.network_address, network.broadcast_address):
            assert is_blocked(str(address), NONE), (network, address)


def test_what_is_not_an_address_is_refused() -> None:
    assert is_blocked("localhost", NONE) and is_blocked("", NONE)


def test_the_allow_list_opens_only_its_networks() -> None:
    assert not is_blocked("127.0.0.1", LOOPBACK) and not is_blocked("::1", LOOPBACK)
    assert not is_blocked("::ffff:127.0.0.1", LOOPBACK)
    assert is_blocked("10.0.0.1", LOOPBACK) and is_blocked("169.254.169.254", LOOPBACK)
    # A translation of an allowed private address is not that address.
    assert is_blocked("64:ff9b::7f00:1", LOOPBACK) and is_blocked("::127.0.0.1", LOOPBACK)


@given(IPV6)
def test_ipv6_outside_global_unicast_is_refused(ip: ipaddress.IPv6Address) -> None:
    """And whatever Python deems not global (a second opinion) too."""
    embeds = ip.ipv4_mapped or ip.sixtofour or ip in ipaddress.IPv6Network("64:ff9b::/96")
    if ip not in ipaddress.IPv6Network("2000::/3") and not embeds:
        assert is_blocked(str(ip), NONE)
    if (not ip.is_global or ip.is_multicast) and not embeds:
        assert is_blocked(str(ip), NONE)


@given(IPV4)
def test_embedded_ipv4_is_judged_like_the_ipv4_address(ip: ipaddress.IPv4Address) -> None:
    blocked = is_blocked(str(ip), NONE)
    if not ip.is_global or ip.is_multicast:  # Python's opinion, a second one
        assert blocked
    assert is_blocked(mapped(ip), NONE) == blocked
    assert is_blocked(nat64(ip), NONE) == blocked
    assert is_blocked(six_to_four(ip), NONE) == blocked
    assert is_blocked(compatible(ip), NONE)
    assert is_blocked(mapped(ip), LOOPBACK) == is_blocked(str(ip), LOOPBACK)
