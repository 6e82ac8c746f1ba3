"""Persona: ``persona-signature: t=<seconds>,v1=<hex HMAC-SHA256 of "{t}.{body}">``; while a
secret is rotated the header carries two such sets separated by a space, and either may
match. Persona documents no tolerance; ``t`` is when the request was sent (each retry is
signed again), so hookhouse's 5-minute freshness applies."""

from __future__ import annotations

from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature
from hookhouse.common.domain.providers.stamps import fresh


def _persona(configs: Configs, signed: Signed) -> bool:
    for pairs in signed.headers.get("persona-signature", "").split():
        fields = {
            name.strip(): value.strip()
            for name, _, value in (item.partition("=") for item in pairs.split(","))
        }
        stamp, sent = fields.get("t", ""), fields.get("v1", "")
        if not (sent and fresh(stamp, signed.now)):
            continue
        payload = stamp.encode() + b"." + signed.body
        if same(sent, signature(configs["webhook_secret_key"], payload, "hex")):
            return True
    return False


PROVIDERS = {"persona": Provider(("webhook_secret_key",), _persona)}
