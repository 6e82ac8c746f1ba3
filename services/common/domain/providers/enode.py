"""Enode: ``x-enode-signature: sha1=<hex HMAC-SHA1 of the body>``; no timestamp is signed."""

from __future__ import annotations

from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature


def _enode(configs: Configs, signed: Signed) -> bool:
    expected = "sha1=" + signature(configs["webhook_secret_key"], signed.body, "hex", "sha1")
    return same(signed.headers.get("x-enode-signature", ""), expected)


PROVIDERS = {"enode": Provider(("webhook_secret_key",), _enode)}
