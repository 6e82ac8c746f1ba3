"""GitHub: ``x-hub-signature-256: sha256=<hex HMAC-SHA256 of the body>``."""

from __future__ import annotations

from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature


def _github(configs: Configs, signed: Signed) -> bool:
    expected = "sha256=" + signature(configs["webhook_secret_key"], signed.body, "hex")
    return same(signed.headers.get("x-hub-signature-256", ""), expected)


PROVIDERS = {"github": Provider(("webhook_secret_key",), _github)}
