"""Tebex (webhooks v2): ``x-signature`` is the hex HMAC-SHA256, keyed with the webhook
secret, of the hex SHA-256 of the body (a hash of the hash, as Tebex documents).  Tebex
also publishes the two addresses it sends from; that check belongs to the network, not
here.  The ``validation.webhook`` event Tebex sends first is signed the same way."""

from __future__ import annotations

import hashlib

from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature


def _tebex(configs: Configs, signed: Signed) -> bool:
    body_hash = hashlib.sha256(signed.body).hexdigest().encode()
    expected = signature(configs["webhook_secret_key"], body_hash, "hex")
    return same(signed.headers.get("x-signature", ""), expected)


PROVIDERS = {"tebex": Provider(("webhook_secret_key",), _tebex)}
