"""Front, both of its webhook kinds, keyed by ``webhook_secret_key``:

- application webhooks (and channel and connector requests) carry
  ``x-front-request-timestamp`` (milliseconds) and ``x-front-signature``, the base64
  HMAC-SHA256 of ``"{timestamp}:{body}"``; Front recommends refusing requests more than
  5 minutes old (Front, "Application webhooks: verifying integrity" and "Security").
- rule webhooks carry only ``x-front-signature``, the base64 HMAC-SHA1 of the body under
  the Webhooks app's API secret, and no timestamp (Front, "Rule webhooks: validating data
  integrity"), so no replay protection.

A request with the timestamp header is held to the first scheme; only one without it is
checked as a rule webhook.  The two never share a value: a captured application webhook
cannot be replayed as a rule webhook.
"""

from __future__ import annotations

from hookhouse.common.domain.providers import stamps
from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature


def _frontapp(configs: Configs, signed: Signed) -> bool:
    secret, sent = configs["webhook_secret_key"], signed.headers.get("x-front-signature", "")
    stamp = signed.headers.get("x-front-request-timestamp")
    if stamp is None:
        return same(sent, signature(secret, signed.body, "base64", "sha1"))
    if not stamps.fresh(stamp, signed.now):
        return False
    return same(sent, signature(secret, f"{stamp}:".encode() + signed.body, "base64"))


PROVIDERS = {"frontapp": Provider(("webhook_secret_key",), _frontapp)}
