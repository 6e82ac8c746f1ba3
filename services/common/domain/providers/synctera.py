"""Synctera: ``synctera-signature: <hex HMAC-SHA256 of "{request-timestamp}.{body}">`` (two
signatures joined by ``.`` while a secret rolls), ``request-timestamp`` in seconds, at most
5 minutes from now."""

from __future__ import annotations

from hookhouse.common.domain.providers.base import (
    Configs,
    Provider,
    Signed,
    same,
    signature,
)
from hookhouse.common.domain.providers.stamps import fresh


def _synctera(configs: Configs, signed: Signed) -> bool:
    stamp = signed.headers.get("request-timestamp", "")
    if not fresh(stamp, signed.now):
        return False
    expected = signature(configs["webhook_secret_key"], stamp.encode() + b"." + signed.body, "hex")
    sent = signed.headers.get("synctera-signature", "").split(".")
    return any(same(candidate, expected) for candidate in sent if candidate)


PROVIDERS = {"synctera": Provider(("webhook_secret_key",), _synctera)}
