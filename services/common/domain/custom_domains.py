"""Custom domains: host names under which ingest takes a project's requests.

What a host name may be (checked once, when the API stores it) and what a request's
``Host`` header names (read by ingest on every request).  Pure: no I/O.

A custom domain is a DNS name of at least two labels, RFC 1123 letters, digits and
hyphens, stored lower-case in its ASCII form (a Unicode name is stored as its
``xn--`` A-label, IDNA 2008 with UTS 46 mapping, by the ``idna`` package).  Refused:
IP literals, ports, paths, wildcards (``*.`` is not supported: one name, one domain),
``localhost`` and its subdomains, an all-numeric last label, and the host of
hookhouse's own ingest URL (a tenant claiming it would take every other tenant's
sources off it).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection
from typing import Any

import idna

MAX_HOSTNAME_LENGTH = 253  # RFC 1035: the whole name, dots included, in ASCII
MAX_PER_PROJECT = 10


class InvalidHostname(ValueError):
    pass


def checked_hostname(given: object, reserved: Collection[str] = ()) -> str:
    """``given`` as a stored host name (lower-case ASCII, no trailing dot), or
    :class:`InvalidHostname` saying what is wrong with it; ``reserved`` are host names
    no project may claim."""
    if not isinstance(given, str) or not given:
        raise InvalidHostname("'hostname' is required and must be text.")
    if len(given) > MAX_HOSTNAME_LENGTH:
        raise InvalidHostname(f"A host name has at most {MAX_HOSTNAME_LENGTH} characters.")
    text = given.removesuffix(".")
    if "*" in text:
        raise InvalidHostname("Wildcard host names are not supported; add each name.")
    if is_ip(text.strip("[]")):
        raise InvalidHostname("An IP address is not a custom domain; give a DNS name.")
    if "/" in text or ":" in text:
        raise InvalidHostname("Give a host name only: no scheme, port or path.")
    try:
        name = idna.encode(text, uts46=True).decode("ascii")
    except UnicodeError as exc:  # idna's errors are UnicodeErrors
        # idna's reason quotes the input, which may hold what UTF-8 cannot encode.
        reason = str(exc).encode("utf-8", "backslashreplace").decode("utf-8")
        raise InvalidHostname(
            f"Not a valid host name ({reason}): labels of 1 to 63 letters, digits and "
            "hyphens, separated by dots."
        ) from exc
    labels = name.split(".")
    if labels[-1] == "localhost":
        raise InvalidHostname("'localhost' and its subdomains cannot be custom domains.")
    if len(labels) < 2:
        raise InvalidHostname("A custom domain has at least two labels (hooks.example.com).")
    if labels[-1].isdigit():
        raise InvalidHostname("A host name's last label cannot be all digits.")
    if name in reserved:
        raise InvalidHostname(f"'{name}' is this hookhouse's own ingest host.")
    return name


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def url_base(hostname: str) -> str:
    """Where a custom domain's requests are posted: always ``https``, since TLS is the
    operator's proxy's job in front of ingest (hookhouse issues no certificate)."""
    return f"https://{hostname}"


def public_base(domains: list[dict[str, Any]], ingest_url: str) -> str:
    """The base of a project's source URLs: its first custom domain (the first created),
    or the ingest URL when it has none."""
    return url_base(domains[0]["hostname"]) if domains else ingest_url


def host_of(header: str | None) -> str:
    """The host name a ``Host`` header names, as custom domains are stored: lower-case,
    without a port or a trailing dot (``""`` for none)."""
    if not header:
        return ""
    host = header.lower()
    if host.startswith("["):  # an IPv6 literal: never a custom domain
        return host.partition("]")[0] + "]"
    return host.partition(":")[0].removesuffix(".")
