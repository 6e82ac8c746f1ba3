"""Zoom: ``x-zm-signature: v0=<hex>``, the HMAC-SHA256 of ``"v0:{timestamp}:{body}"``
keyed by the app's secret token, the timestamp in ``x-zm-request-timestamp`` (Zoom,
"Using webhooks: verify webhook events").  Zoom names no tolerance; hookhouse refuses a
timestamp more than 5 minutes from now.  The ``endpoint.url_validation`` challenge needs
an answer computed from the secret (``encryptedToken``), which a verification does not
give: a source that must pass Zoom's validation needs that answered elsewhere."""

from __future__ import annotations

from hookhouse.common.domain.providers import stamps
from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature


def _zoom(configs: Configs, signed: Signed) -> bool:
    stamp = signed.headers.get("x-zm-request-timestamp", "")
    if not stamps.fresh(stamp, signed.now):
        return False
    payload = f"v0:{stamp}:".encode() + signed.body
    expected = "v0=" + signature(configs["webhook_secret_key"], payload, "hex")
    return same(signed.headers.get("x-zm-signature", ""), expected)


PROVIDERS = {"zoom": Provider(("webhook_secret_key",), _zoom)}
