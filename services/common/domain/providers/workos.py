"""WorkOS: ``workos-signature: t=<milliseconds>, v1=<hex HMAC-SHA256 of "{t}.{body}">``, at
most 3 minutes from now (the tolerance WorkOS's SDKs apply by default)."""

from __future__ import annotations

from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature

TOLERANCE_MS = 180_000


def _workos(configs: Configs, signed: Signed) -> bool:
    fields = {
        name.strip(): value.strip()
        for name, _, value in (
            item.partition("=") for item in signed.headers.get("workos-signature", "").split(",")
        )
    }
    stamp, sent = fields.get("t", ""), fields.get("v1", "")
    if not (stamp.isdigit() and sent) or abs(signed.now * 1000 - int(stamp)) > TOLERANCE_MS:
        return False
    payload = stamp.encode() + b"." + signed.body
    return same(sent, signature(configs["webhook_secret_key"], payload, "hex"))


PROVIDERS = {"workos": Provider(("webhook_secret_key",), _workos)}
