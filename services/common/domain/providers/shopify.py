"""Shopify: ``x-shopify-hmac-sha256: <base64 HMAC-SHA256 of the body>``."""

from __future__ import annotations

from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature


def _shopify(configs: Configs, signed: Signed) -> bool:
    expected = signature(configs["webhook_secret_key"], signed.body, "base64")
    return same(signed.headers.get("x-shopify-hmac-sha256", ""), expected)


PROVIDERS = {"shopify": Provider(("webhook_secret_key",), _shopify)}
