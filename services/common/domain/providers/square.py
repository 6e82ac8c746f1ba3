"""Square: ``x-square-hmacsha256-signature`` is the base64 HMAC-SHA256, keyed with the
subscription's signature key, of the notification URL followed by the body.  The URL is
the one registered in Square, so hookhouse signs the request's URL as Square called it
(the public ingest URL, path and query): the source's URL must be registered exactly.
The legacy ``x-square-signature`` (HMAC-SHA1) is not accepted."""

from __future__ import annotations

from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature


def _square(configs: Configs, signed: Signed) -> bool:
    payload = signed.url.encode() + signed.body
    expected = signature(configs["webhook_secret_key"], payload, "base64")
    return same(signed.headers.get("x-square-hmacsha256-signature", ""), expected)


PROVIDERS = {"square": Provider(("webhook_secret_key",), _square)}
