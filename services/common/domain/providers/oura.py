"""Oura (API v2 webhooks): ``x-oura-signature``, the HMAC-SHA256 of the timestamp followed
directly by the body (no separator), keyed by the app's client secret and sent as
upper-case hex, the timestamp in ``x-oura-timestamp`` (Oura, "Webhooks").  The case of
the hex is not significant.  Oura names no tolerance; hookhouse refuses a timestamp more
than 5 minutes from now.  The subscription handshake is a GET with
``verification_token`` and ``challenge`` and no signature: it is refused here, and its
answer is not a verification's to give."""

from __future__ import annotations

from hookhouse.common.domain.providers import stamps
from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature


def _oura(configs: Configs, signed: Signed) -> bool:
    stamp = signed.headers.get("x-oura-timestamp", "")
    if not stamps.fresh(stamp, signed.now):
        return False
    expected = signature(configs["webhook_secret_key"], stamp.encode() + signed.body, "hex")
    return same(signed.headers.get("x-oura-signature", "").upper(), expected.upper())


PROVIDERS = {"oura": Provider(("webhook_secret_key",), _oura)}
