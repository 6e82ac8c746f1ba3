"""HubSpot, keyed by the app's client secret (``webhook_secret_key``) (HubSpot, "Validating
requests from HubSpot"):

- v3: ``x-hubspot-signature-v3``, the base64 HMAC-SHA256 of method + URI + body +
  timestamp, the timestamp (milliseconds) in ``x-hubspot-request-timestamp``; a request
  more than 5 minutes old is refused.  In the URI, the characters HubSpot lists
  (``: / ? @ ! $ ' ( ) * , ;``) are decoded from their ``%XX`` form first.
- v2 (``x-hubspot-signature-version: v2``): ``x-hubspot-signature``, the hex SHA-256 of
  client secret + method + URI + body.
- v1 (``x-hubspot-signature-version: v1``, the webhooks API's): ``x-hubspot-signature``,
  the hex SHA-256 of client secret + body.

A request carrying the v3 header is held to it; only one without it is checked as v1 or
v2, which sign no timestamp.  HubSpot sends the older signatures beside v3 for
compatibility, so someone who captured a delivery can drop the v3 header and replay it;
and v1 and v2, plain hashes of secret then message, can be extended without the secret
(the signature of that body, hash padding and more bytes follows from a captured one).
v3 has neither flaw.
"""

from __future__ import annotations

import hashlib
import re

from hookhouse.common.domain.providers import stamps
from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature
from hookhouse.common.domain.signing import encode

DECODED = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
_ENCODED = re.compile("|".join(DECODED), re.IGNORECASE)


def _uri(url: str) -> str:
    """The URI as HubSpot signs it for v3: only the listed characters decoded."""
    return _ENCODED.sub(lambda found: DECODED[found.group(0).upper()], url)


def _v3(secret: str, sent: str, signed: Signed) -> bool:
    stamp = signed.headers.get("x-hubspot-request-timestamp", "")
    if not stamps.fresh(stamp, signed.now):
        return False
    source = f"{signed.method.upper()}{_uri(signed.url)}".encode() + signed.body + stamp.encode()
    return same(sent, signature(secret, source, "base64"))


def _older(secret: str, signed: Signed) -> bool:
    version = signed.headers.get("x-hubspot-signature-version", "")
    if version == "v1":
        source = secret.encode() + signed.body
    elif version == "v2":
        source = f"{secret}{signed.method.upper()}{signed.url}".encode() + signed.body
    else:
        return False
    expected = encode(hashlib.sha256(source).digest(), "hex")
    return same(signed.headers.get("x-hubspot-signature", ""), expected)


def _hubspot(configs: Configs, signed: Signed) -> bool:
    secret = configs["webhook_secret_key"]
    sent = signed.headers.get("x-hubspot-signature-v3")
    return _v3(secret, sent, signed) if sent is not None else _older(secret, signed)


PROVIDERS = {"hubspot": Provider(("webhook_secret_key",), _hubspot)}
