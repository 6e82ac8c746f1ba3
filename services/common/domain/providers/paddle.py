"""Paddle Billing: ``paddle-signature: ts=<seconds>;h1=<hex HMAC-SHA256 of "{ts}:{body}">``
keyed with the notification destination's secret (more than one ``h1`` while a secret
is rotated; any may match).  Paddle's SDKs refuse a ``ts`` more than 5 seconds from now
and ask manual checks to do the same, so that is the tolerance here.  Paddle Classic's
``p_signature`` (RSA over PHP-serialized form fields) is a different product and is not
accepted."""

from __future__ import annotations

from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature
from hookhouse.common.domain.providers.stamps import fresh

TOLERANCE_SECONDS = 5


def _paddle(configs: Configs, signed: Signed) -> bool:
    parts: dict[str, list[str]] = {}
    for item in signed.headers.get("paddle-signature", "").split(";"):
        name, _, value = item.strip().partition("=")
        parts.setdefault(name, []).append(value)
    stamp = (parts.get("ts") or [""])[0]
    if not fresh(stamp, signed.now, TOLERANCE_SECONDS):
        return False
    expected = signature(configs["webhook_secret_key"], stamp.encode() + b":" + signed.body, "hex")
    return any(same(candidate, expected) for candidate in parts.get("h1", []))


PROVIDERS = {"paddle": Provider(("webhook_secret_key",), _paddle)}
