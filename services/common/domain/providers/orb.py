"""Orb: ``x-orb-signature: v1=<hex HMAC-SHA256 of "v1:{x-orb-timestamp}:{body}">`` (several
space-separated while a secret is rolled), ``x-orb-timestamp`` ISO 8601 without a zone
(UTC), at most 5 minutes from now either way, as Orb's SDKs check."""

from __future__ import annotations

from hookhouse.common.domain.providers.base import (
    TOLERANCE_SECONDS,
    Configs,
    Provider,
    Signed,
    same,
    signature,
)
from hookhouse.common.domain.providers.stamps import iso_seconds


def _orb(configs: Configs, signed: Signed) -> bool:
    stamp = signed.headers.get("x-orb-timestamp", "")
    sent_at = iso_seconds(stamp)
    if sent_at is None or abs(signed.now - sent_at) > TOLERANCE_SECONDS:
        return False
    payload = b"v1:" + stamp.encode() + b":" + signed.body
    expected = signature(configs["webhook_secret_key"], payload, "hex")
    candidates = signed.headers.get("x-orb-signature", "").split()
    return any(
        same(value, expected)
        for version, _, value in (item.partition("=") for item in candidates)
        if version == "v1" and value
    )


PROVIDERS = {"orb": Provider(("webhook_secret_key",), _orb)}
