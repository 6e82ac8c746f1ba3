"""NMI (payment gateway): ``webhook-signature: t=<nonce>,s=<hex HMAC-SHA256 of
"{nonce}.{body}">`` under the webhooks signing key. ``t`` is a nonce, not a time: NMI
defines no tolerance, and remembering nonces (its replay protection) needs state the domain
does not keep."""

from __future__ import annotations

from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature


def _nmi(configs: Configs, signed: Signed) -> bool:
    fields = {
        name.strip(): value.strip()
        for name, _, value in (
            item.partition("=") for item in signed.headers.get("webhook-signature", "").split(",")
        )
    }
    nonce, sent = fields.get("t", ""), fields.get("s", "")
    if not (nonce and sent):
        return False
    payload = nonce.encode() + b"." + signed.body
    return same(sent, signature(configs["webhook_secret_key"], payload, "hex"))


PROVIDERS = {"nmi": Provider(("webhook_secret_key",), _nmi)}
