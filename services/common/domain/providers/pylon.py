"""Pylon (support platform): a webhook destination sends ``pylon-webhook-signature:
hs256=<hex HMAC-SHA256 of "{pylon-webhook-timestamp}.{body}">`` with the timestamp in
seconds; Pylon documents no tolerance, so hookhouse's 5 minutes apply. Pylon's earlier
webhooks (its help-centre article) send ``x-pylon-signature: <hex HMAC-SHA256 of the
body>`` and no time; that form is accepted only when the current header is absent."""

from __future__ import annotations

from hookhouse.common.domain.providers.base import (
    Configs,
    Provider,
    Signed,
    same,
    signature,
)
from hookhouse.common.domain.providers.stamps import fresh


def _pylon(configs: Configs, signed: Signed) -> bool:
    secret = configs["webhook_secret_key"]
    current = signed.headers.get("pylon-webhook-signature")
    if current is not None:
        stamp = signed.headers.get("pylon-webhook-timestamp", "")
        if not fresh(stamp, signed.now):
            return False
        payload = stamp.encode() + b"." + signed.body
        return same(current, "hs256=" + signature(secret, payload, "hex"))
    legacy = signed.headers.get("x-pylon-signature", "")
    return bool(legacy) and same(legacy, signature(secret, signed.body, "hex"))


PROVIDERS = {"pylon": Provider(("webhook_secret_key",), _pylon)}
