"""What a destination receives: the headers of an attempt; pure functions.

What the attempt's result means, and what follows it, is in ``outcome.py``.
"""

from __future__ import annotations

import functools

from hookhouse.common.domain.records import Delivery

# Headers that describe the inbound hop, not the payload; never forwarded.  RFC 9110
# §7.6.1's hop-by-hop fields (and any the request's ``Connection`` names), RFC 2616's
# older ones, and what the client sets for its own request.
HOP_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "proxy-authorization",
        "proxy-authenticate",
        "proxy-connection",
        "accept-encoding",
        "expect",
    }
)
# Prefixes of the headers the gateway sets (the configured one is reserved too): a
# request's header under one of them never reaches a destination, so none of
# ``verified``, ``signature``, ``will-retry-after``... can be a provider's.
RESERVED_PREFIXES = ("x-hookhouse-", "x-hookdeck-")
# The one exception: the header hookhouse's own issue notices carry as a request header
# (the API produces them as requests, under this literal name; the deliverer never
# sets it).  Anyone posting to the notices' source can send it as well.
PASSED_THROUGH = frozenset({"x-hookhouse-topic"})
# Set on every delivery by the gateway.
GATEWAY_HEADERS = frozenset({"idempotency-key"})


@functools.lru_cache(maxsize=64)
def reserved_prefixes(prefix: str) -> tuple[str, ...]:
    """The reserved prefixes, ``prefix`` (lower-cased) among them."""
    return tuple(dict.fromkeys(p for p in (prefix.lower(), *RESERVED_PREFIXES) if p))


def forwarded_headers(
    received: dict[str, str], prefix: str, set_here: frozenset[str] | set[str] = frozenset()
) -> dict[str, str]:
    """The request's headers a destination receives: none that is hop-by-hop, named in
    its ``Connection`` header, under a reserved prefix, or one the gateway sets itself
    (``set_here``: lower-case names, beside the fixed ones).  Names compare
    case-insensitively: ``X-Hookhouse-Verified`` is ``x-hookhouse-verified``."""
    reserved = reserved_prefixes(prefix)
    named: set[str] = set()  # by Connection: hop-by-hop too (RFC 9110 §7.6.1)
    kept = {}
    for name, value in received.items():
        key = name.lower()
        if key in HOP_HEADERS or key in GATEWAY_HEADERS or key in set_here:
            if key == "connection" or key == "proxy-connection":
                named.update(token.strip().lower() for token in value.split(","))
            continue
        if key.startswith(reserved) and key not in PASSED_THROUGH:
            continue
        kept[name] = value
    if named:
        return {name: value for name, value in kept.items() if name.lower() not in named}
    return kept


def outbound_headers(
    delivery: Delivery,
    prefix: str,
    names: dict[str, str] | None = None,
    will_retry_after: float | None = None,
    dashboard_url: str = "",
    credentials: dict[str, str] | None = None,
) -> dict[str, str]:
    """The request's headers as :func:`forwarded_headers` keeps them, plus the delivery
    headers and ``credentials`` (the auth and signature headers of this attempt).

    ``names`` adds ``<prefix>source-name`` and the like; ``will_retry_after`` is the
    delay before the next automatic retry should this attempt fail; ``dashboard_url``
    adds ``<prefix>event-url``, the event's page in the web console.
    """
    extra = credentials or {}
    headers = forwarded_headers(
        delivery.headers, prefix, {name.lower() for name in extra} if extra else frozenset()
    )
    headers.update(
        {
            f"{prefix}event-id": delivery.event_id,
            f"{prefix}request-id": delivery.request_id,
            f"{prefix}source-id": delivery.source_id,
            f"{prefix}connection-id": delivery.connection_id,
            f"{prefix}destination-id": delivery.destination_id,
            f"{prefix}attempt-count": str(delivery.attempt),
            f"{prefix}attempt-trigger": delivery.trigger,
            f"{prefix}original-received-at": delivery.received_at,
            "idempotency-key": delivery.event_id,
        }
    )
    for kind, name in (names or {}).items():
        headers[f"{prefix}{kind}-name"] = name
    if delivery.verified is not None:
        headers[f"{prefix}verified"] = "true" if delivery.verified else "false"
    if will_retry_after is not None:
        headers[f"{prefix}will-retry-after"] = str(round(will_retry_after))
    if dashboard_url:
        headers[f"{prefix}event-url"] = f"{dashboard_url}/#/events/{delivery.event_id}"
    headers.update(extra)
    return headers
