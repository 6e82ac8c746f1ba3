"""Linear: ``linear-signature: <hex HMAC-SHA256 of the body>``, and the body's
``webhookTimestamp`` (milliseconds, so signed with it) at most a minute from now, as
Linear's own verifier requires."""

from __future__ import annotations

import orjson

from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature

TOLERANCE_MS = 60_000


def _linear(configs: Configs, signed: Signed) -> bool:
    expected = signature(configs["webhook_secret_key"], signed.body, "hex")
    if not same(signed.headers.get("linear-signature", ""), expected):
        return False
    try:
        document = orjson.loads(signed.body)
    except ValueError:
        return False
    stamp = document.get("webhookTimestamp") if isinstance(document, dict) else None
    if not isinstance(stamp, int | float) or isinstance(stamp, bool):
        return False
    return abs(signed.now * 1000 - stamp) <= TOLERANCE_MS


PROVIDERS = {"linear": Provider(("webhook_secret_key",), _linear)}
