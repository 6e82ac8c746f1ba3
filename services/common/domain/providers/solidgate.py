"""Solidgate: the ``merchant`` header carries the webhook public key (``wh_pk_…``) and
``signature`` the base64 of the *hex text* of HMAC-SHA512, keyed with the webhook secret
key (``wh_sk_…``), of public key + body + public key.  Only the secret is configured (as
in Hookdeck), so the public key is taken from the header; it is signed, so it cannot be
swapped without the secret."""

from __future__ import annotations

from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature
from hookhouse.common.domain.signing import encode


def _solidgate(configs: Configs, signed: Signed) -> bool:
    merchant = signed.headers.get("merchant", "").encode()
    if not merchant:
        return False
    hex_text = signature(
        configs["webhook_secret_key"], merchant + signed.body + merchant, "hex", "sha512"
    )
    return same(signed.headers.get("signature", ""), encode(hex_text.encode(), "base64"))


PROVIDERS = {"solidgate": Provider(("webhook_secret_key",), _solidgate)}
