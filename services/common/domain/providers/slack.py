"""Slack: ``x-slack-signature: v0=<hex HMAC-SHA256 of "v0:{timestamp}:{body}">`` keyed
with the app's signing secret, the timestamp from ``x-slack-request-timestamp``; Slack
asks that a timestamp more than 5 minutes from now be refused (a replay).  Its
``url_verification`` request (signed like the others) is answered with its
``challenge``."""

from __future__ import annotations

import orjson

from hookhouse.common.domain.providers.base import (
    Answer,
    Configs,
    Provider,
    Signed,
    json_object,
    same,
    signature,
    text,
)
from hookhouse.common.domain.providers.stamps import fresh


def v0_signed(secret: str, signed: Signed, stamp_header: str, signature_header: str) -> bool:
    """Slack's ``v0`` scheme (Zoom signs the same way under its own headers): the header
    holds ``v0=`` and the hex HMAC-SHA256 of ``v0:{timestamp}:{body}``, the timestamp at
    most 5 minutes from now."""
    stamp = signed.headers.get(stamp_header, "")
    if not fresh(stamp, signed.now):
        return False
    basestring = b"v0:" + stamp.encode() + b":" + signed.body
    expected = "v0=" + signature(secret, basestring, "hex")
    return same(signed.headers.get(signature_header, ""), expected)


def _slack(configs: Configs, signed: Signed) -> bool:
    secret = configs["webhook_secret_key"]
    return v0_signed(secret, signed, "x-slack-request-timestamp", "x-slack-signature")


def _url_verification(configs: Configs, signed: Signed) -> Answer | None:
    event = json_object(signed.body) or {}
    challenge = text(event.get("challenge"))
    if event.get("type") != "url_verification" or challenge is None:
        return None
    return Answer(orjson.dumps({"challenge": challenge}))


PROVIDERS = {"slack": Provider(("webhook_secret_key",), _slack, reply=_url_verification)}
