"""Akeneo PIM (Events API): ``x-akeneo-request-signature``, the hex HMAC-SHA256 of
``"{timestamp}.{body}"`` keyed by the connection's secret, the timestamp (seconds) in
``x-akeneo-request-timestamp`` (Akeneo, "Events API: security").  A timestamp more than
5 minutes from now is refused, against replays."""

from __future__ import annotations

from hookhouse.common.domain.providers import stamps
from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature


def _akeneo(configs: Configs, signed: Signed) -> bool:
    stamp = signed.headers.get("x-akeneo-request-timestamp", "")
    if not stamps.fresh(stamp, signed.now):
        return False
    expected = signature(configs["webhook_secret_key"], f"{stamp}.".encode() + signed.body, "hex")
    return same(signed.headers.get("x-akeneo-request-signature", ""), expected)


PROVIDERS = {"akeneo": Provider(("webhook_secret_key",), _akeneo)}
