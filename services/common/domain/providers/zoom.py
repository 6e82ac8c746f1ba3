"""Zoom: ``x-zm-signature: v0=<hex>``, the HMAC-SHA256 of ``"v0:{timestamp}:{body}"``
keyed by the app's secret token, the timestamp in ``x-zm-request-timestamp`` (Zoom,
"Using webhooks: verify webhook events").  Zoom names no tolerance; hookhouse refuses a
timestamp more than 5 minutes from now.  Its ``endpoint.url_validation`` request (signed
like the others) is answered with the ``plainToken`` and its ``encryptedToken``, the hex
HMAC-SHA256 of the token keyed by the same secret."""

from __future__ import annotations

import orjson

from hookhouse.common.domain.providers.base import (
    Answer,
    Configs,
    Provider,
    Signed,
    json_object,
    signature,
    text,
)
from hookhouse.common.domain.providers.slack import v0_signed


def _zoom(configs: Configs, signed: Signed) -> bool:
    secret = configs["webhook_secret_key"]
    return v0_signed(secret, signed, "x-zm-request-timestamp", "x-zm-signature")


def _url_validation(configs: Configs, signed: Signed) -> Answer | None:
    event = json_object(signed.body) or {}
    payload = event.get("payload")
    token = text(payload.get("plainToken")) if isinstance(payload, dict) else None
    if event.get("event") != "endpoint.url_validation" or token is None:
        return None
    encrypted = signature(configs["webhook_secret_key"], token.encode(), "hex")
    return Answer(orjson.dumps({"plainToken": token, "encryptedToken": encrypted}))


PROVIDERS = {"zoom": Provider(("webhook_secret_key",), _zoom, reply=_url_validation)}
