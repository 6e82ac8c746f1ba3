"""X (Twitter), Account Activity API: ``x-twitter-webhooks-signature: sha256=<base64>``,
the HMAC-SHA256 of the body keyed by the app's consumer secret, which Hookdeck's config
calls ``api_key`` (X, "Securing webhooks").  X signs no timestamp.

X's CRC check, a GET with ``crc_token`` when the webhook is registered and hourly after,
is answered here with ``{"response_token": "sha256=<base64 HMAC of the token>"}`` and not
stored.  That answer is an HMAC of the caller's text under the key that signs bodies, so
it would sign any body a caller chose.  Two rules close that: a token is 1 to 255
characters of ``A-Z a-z 0-9 - _ = + / .``, and a signed body must be a JSON object (X
sends nothing else), which no token can be.
"""

from __future__ import annotations

import re

import orjson

from hookhouse.common.domain.providers.base import (
    Answer,
    Configs,
    Provider,
    Signed,
    query_value,
    same,
    signature,
)

CRC_TOKEN = re.compile(r"[A-Za-z0-9_\-=+/.]{1,255}")


def _twitter(configs: Configs, signed: Signed) -> bool:
    if not signed.body.lstrip().startswith(b"{"):
        return False
    expected = "sha256=" + signature(configs["api_key"], signed.body, "base64")
    return same(signed.headers.get("x-twitter-webhooks-signature", ""), expected)


def _crc(configs: Configs, signed: Signed) -> Answer | None:
    token = query_value(signed.url, "crc_token")
    if signed.method != "GET" or token is None or not CRC_TOKEN.fullmatch(token):
        return None
    answer = "sha256=" + signature(configs["api_key"], token.encode(), "base64")
    return Answer(orjson.dumps({"response_token": answer}))


PROVIDERS = {
    "twitter": Provider(("api_key",), _twitter, secrets=("api_key",), challenge=_crc),
}
