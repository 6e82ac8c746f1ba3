"""Stripe: ``stripe-signature: t=<seconds>,v1=<hex HMAC-SHA256 of "{t}.{body}">`` (more
than one ``v1`` while a secret is rolled), at most 5 minutes old."""

from __future__ import annotations

from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature
from hookhouse.common.domain.providers.stamps import fresh


def _stripe(configs: Configs, signed: Signed) -> bool:
    parts: dict[str, list[str]] = {}
    for item in signed.headers.get("stripe-signature", "").split(","):
        name, _, value = item.strip().partition("=")
        parts.setdefault(name, []).append(value)
    stamp = (parts.get("t") or [""])[0]
    if not fresh(stamp, signed.now):
        return False
    expected = signature(configs["webhook_secret_key"], stamp.encode() + b"." + signed.body, "hex")
    return any(same(candidate, expected) for candidate in parts.get("v1", []))


PROVIDERS = {"stripe": Provider(("webhook_secret_key",), _stripe)}
