"""Slack: ``x-slack-signature: v0=<hex HMAC-SHA256 of "v0:{timestamp}:{body}">`` keyed
with the app's signing secret, the timestamp from ``x-slack-request-timestamp``; Slack
asks that a timestamp more than 5 minutes from now be refused (a replay)."""

from __future__ import annotations

from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature
from hookhouse.common.domain.providers.stamps import fresh


def _slack(configs: Configs, signed: Signed) -> bool:
    stamp = signed.headers.get("x-slack-request-timestamp", "")
    if not fresh(stamp, signed.now):
        return False
    basestring = b"v0:" + stamp.encode() + b":" + signed.body
    expected = "v0=" + signature(configs["webhook_secret_key"], basestring, "hex")
    return same(signed.headers.get("x-slack-signature", ""), expected)


PROVIDERS = {"slack": Provider(("webhook_secret_key",), _slack)}
