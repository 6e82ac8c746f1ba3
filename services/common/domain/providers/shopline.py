"""SHOPLINE (Open Platform): ``x-shopline-hmac-sha256`` is the HMAC-SHA256 of the body under
the app secret. SHOPLINE's pages show it base64 (``XWmrwMey6OsLMeiZKwP4FppHH3cmAiiJJAweH5Jo4bM=``)
and hex in places, so either encoding of the same digest is accepted. No time is signed."""

from __future__ import annotations

from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature


def _shopline(configs: Configs, signed: Signed) -> bool:
    sent = signed.headers.get("x-shopline-hmac-sha256", "")
    secret = configs["webhook_secret_key"]
    return bool(sent) and (
        same(sent, signature(secret, signed.body, "base64"))
        or same(sent.lower(), signature(secret, signed.body, "hex"))
    )


PROVIDERS = {"shopline": Provider(("webhook_secret_key",), _shopline)}
