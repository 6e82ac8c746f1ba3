"""Favro: ``x-favro-webhook: <base64 HMAC-SHA1 of payloadId + the webhook's URL>``, the
``payloadId`` read from the JSON body and the URL the request was sent to. Favro's
signature covers only those two: the rest of the body is not signed (a body changed but
for its ``payloadId`` passes), and no time is signed, so there is nothing to age."""

from __future__ import annotations

import orjson

from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature


def _favro(configs: Configs, signed: Signed) -> bool:
    try:
        document = orjson.loads(signed.body)
    except ValueError:
        return False
    payload_id = document.get("payloadId") if isinstance(document, dict) else None
    if not (isinstance(payload_id, str) and payload_id and signed.url):
        return False
    message = (payload_id + signed.url).encode()
    expected = signature(configs["webhook_secret_key"], message, "base64", "sha1")
    return same(signed.headers.get("x-favro-webhook", ""), expected)


PROVIDERS = {"favro": Provider(("webhook_secret_key",), _favro)}
