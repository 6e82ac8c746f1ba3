"""Sanity (GROQ-powered webhooks): ``sanity-webhook-signature: t=<milliseconds>,v1=<sig>``
where ``sig`` is the base64url (unpadded) HMAC-SHA256 of ``"{t}.{body}"`` keyed with
the webhook's secret.  Sanity's own toolkit (@sanity/webhook) applies no tolerance to
``t``, so none is applied here: it is signed, so it cannot be changed, but an old request
replayed whole still passes, as it would with Sanity's toolkit."""

from __future__ import annotations

import re

from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature

HEADER = re.compile(r"t=(\d+)[, ]+v1=([^, ]+)")


def _sanity(configs: Configs, signed: Signed) -> bool:
    match = HEADER.fullmatch(signed.headers.get("sanity-webhook-signature", "").strip())
    if match is None:
        return False
    stamp, sent = match.groups()
    payload = stamp.encode() + b"." + signed.body
    return same(sent, signature(configs["webhook_secret_key"], payload, "base64url"))


PROVIDERS = {"sanity": Provider(("webhook_secret_key",), _sanity)}
