"""The URL a delivery goes to, built from the destination's and the request's; pure.

What a provider controls (the path after ``/e/<source>`` and the query string) is data
appended below the destination's URL, never a way to change it:

- the forwarded path is the request's path as ingest stored it (percent-decoded), split
  into segments; empty and ``.`` segments go, ``..`` removes the segment before it but
  never climbs above the destination's path, and every segment is percent-encoded, so
  a ``?``, ``#``, ``%``, ``;`` or ``\\`` in it stays in the path;
- the query is the destination's own, then the request's parameters, then the
  destination's API-key parameter if it has one.  A request parameter named like one of
  the destination's own or its API key is left out, so theirs are the only ones (names
  compared as lenient servers read them: case-insensitively, ``.`` and space as ``_``,
  without a ``[…]`` suffix), and a ``#`` in it is encoded, so it cannot cut off what
  follows.

The same URL is also given with its credentials masked (the API-key parameter's value,
the password of a ``user:password@`` part): that one is what attempts store and show.

Cached per distinct input: deliveries mostly see the same few URLs, and splitting,
checking and joining a URL on every delivery would cost the deliverer a noticeable part
of its main thread, where a cached call is a dictionary lookup.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit, urlunsplit

MASK = "***"
# RFC 3986 ``pchar`` less ``;`` (Tomcat and others read ``..;`` as ``..``); the unreserved
# characters are kept by ``quote`` anyway.  Everything else is percent-encoded.
PATH_SAFE = "!$&'()*+,=:@"
# What a query may hold as is; ``%`` too, as the request's query is still encoded.
QUERY_SAFE = "!$&'()*+,;=:@/?%"
_LENIENT = str.maketrans({".": "_", " ": "_"})
# What needs no quoting (the common case, skipped cheaply).
_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9._~!$&'()*+,=:@-]*")
_PLAIN_PAIR = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@/?-]*")
_PLAIN_NAME = re.compile(r"[a-z0-9_-]*")
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")

AuthQuery = tuple[tuple[str, str], ...]


class Target(NamedTuple):
    url: str  # what is requested
    shown: str  # the same, its credentials masked: what an attempt records


def forwarded_path(path: str) -> str:
    """``path`` (decoded) as an encoded path that stays below wherever it is appended."""
    kept: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if kept:
                kept.pop()
            continue
        if _PLAIN_SEGMENT.fullmatch(segment):
            kept.append(segment)
        else:
            kept.append(quote(segment, safe=PATH_SAFE, errors="surrogatepass"))
    if not kept:
        return "/" if path else ""
    trailing = "/" if path.endswith(("/", "/.", "/..")) else ""
    return "/" + "/".join(kept) + trailing


def parameter_name(pair: str) -> str:
    """The name a lenient server gives the parameter ``pair`` (``name=value``) of a query."""
    name = pair.partition("=")[0]
    if _PLAIN_NAME.fullmatch(name):
        return name
    name = unquote_plus(name, errors="replace").casefold()
    return name.split("[", 1)[0].strip().translate(_LENIENT)


def _requote(pair: str) -> str:
    if _PLAIN_PAIR.fullmatch(pair):
        return pair
    # Ingest keeps the raw query's bytes as latin-1 text: back to those bytes.
    raw = pair.encode("latin-1") if pair.isascii() or max(pair) <= "\xff" else pair.encode()
    # A % that starts no escape is data: as %25, since the URL is sent exactly as built.
    return _STRAY_PERCENT.sub("%25", quote(raw, safe=QUERY_SAFE))


def _received_kept(own: str, received: str, auth: AuthQuery) -> list[str]:
    """The request's parameters not named like the destination's own or its key."""
    if not received:
        return []
    taken = {parameter_name(pair) for pair in own.split("&") if pair}
    taken |= {parameter_name(name) for name, _ in auth}
    return [
        _requote(pair) for pair in received.split("&") if pair and parameter_name(pair) not in taken
    ]


def _query(own: str, kept: list[str], auth: AuthQuery, mask: bool) -> str:
    parts = [own] if own else []
    parts += kept
    parts += [f"{quote_plus(name)}={MASK if mask else quote_plus(value)}" for name, value in auth]
    return "&".join(parts)


def merged_query(own: str, received: str, auth: AuthQuery = (), mask: bool = False) -> str:
    """The destination's query, the request's parameters it lacks, its API key (its
    value masked if ``mask``)."""
    return _query(own, _received_kept(own, received, auth), auth, mask)


def _masked_netloc(netloc: str) -> str:
    userinfo, at, host = netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return netloc
    return f"{userinfo.partition(':')[0]}:{MASK}@{host}"


# Targets of requests whose path and query are longer are built each time: a provider
# that sent 4,096 distinct 16 KB paths (48 KB once encoded) held 440 MiB in the cache.
CACHED_BELOW = 2_048


def target(
    destination_url: str,
    path: str,
    query: str,
    forward_path: bool = True,
    auth_query: AuthQuery = (),
) -> Target:
    """Where a delivery goes: the destination's URL with the request's path below its
    path and the merged query; ``auth_query`` is its API-key parameter, if any."""
    if len(path) + len(query) < CACHED_BELOW:
        return _cached(destination_url, path, query, forward_path, auth_query)
    return _build(destination_url, path, query, forward_path, auth_query)


def _build(
    destination_url: str, path: str, query: str, forward_path: bool, auth_query: AuthQuery
) -> Target:
    parts = urlsplit(destination_url)
    full_path = parts.path
    tail = forwarded_path(path) if forward_path else ""
    if tail:
        full_path = parts.path.rstrip("/") + tail
    full_path = full_path or "/"
    kept = _received_kept(parts.query, query, auth_query)
    url = urlunsplit(
        (parts.scheme, parts.netloc, full_path, _query(parts.query, kept, auth_query, False), "")
    )
    netloc = _masked_netloc(parts.netloc)
    if not auth_query and netloc == parts.netloc:
        return Target(url, url)
    shown_query = _query(parts.query, kept, auth_query, True)
    return Target(url, urlunsplit((parts.scheme, netloc, full_path, shown_query, "")))


_cached = functools.lru_cache(maxsize=4096)(_build)
