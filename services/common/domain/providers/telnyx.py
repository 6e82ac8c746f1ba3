"""Telnyx (API v2 webhooks): ``telnyx-signature-ed25519`` is the base64 Ed25519
signature of ``"{telnyx-timestamp}|{body}"``; ``public_key`` is the account's public key
from the Mission Control portal (base64; PEM is accepted too).  The timestamp (seconds)
must be within 5 minutes of now, the tolerance Telnyx's own libraries apply."""

from __future__ import annotations

from hookhouse.common.domain.providers.base import Configs, Provider, Signed
from hookhouse.common.domain.providers.keys import ed25519_key, ed25519_signed, unbase64
from hookhouse.common.domain.providers.stamps import fresh


def _check(configs: Configs) -> None:
    ed25519_key(configs["public_key"], "base64")


def _telnyx(configs: Configs, signed: Signed) -> bool:
    stamp = signed.headers.get("telnyx-timestamp", "")
    if not fresh(stamp, signed.now):
        return False
    sent = unbase64(signed.headers.get("telnyx-signature-ed25519", ""))
    message = stamp.encode() + b"|" + signed.body
    return ed25519_signed(configs["public_key"], "base64", sent, message)


PROVIDERS = {"telnyx": Provider(("public_key",), _telnyx, _check, secrets=())}
