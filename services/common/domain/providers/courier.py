"""Courier: ``courier-signature: t=<milliseconds>,signature=<hex>``, the signature being
the HMAC-SHA256 of ``"{t}.{body}"`` keyed by the webhook's signing secret (Courier,
"Outbound webhooks: verifying signatures").  The page's list of what is concatenated
leaves the ``.`` out; the published examples (Hookdeck's guide among them) put it in,
and so does this: a request signed without it is refused.  Courier names
no tolerance; hookhouse refuses a timestamp more than 5 minutes from now, as for
Stripe's scheme of the same shape."""

from __future__ import annotations

from hookhouse.common.domain.providers import stamps
from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature


def _courier(configs: Configs, signed: Signed) -> bool:
    parts: dict[str, str] = {}
    for item in signed.headers.get("courier-signature", "").split(","):
        name, _, value = item.strip().partition("=")
        parts.setdefault(name, value)
    stamp, sent = parts.get("t", ""), parts.get("signature", "")
    if not stamps.fresh(stamp, signed.now):
        return False
    expected = signature(configs["webhook_secret_key"], f"{stamp}.".encode() + signed.body, "hex")
    return same(sent, expected)


PROVIDERS = {"courier": Provider(("webhook_secret_key",), _courier)}
