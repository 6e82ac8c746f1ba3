"""Vercel webhooks and Vercel log drains, one scheme: ``x-vercel-signature`` is the hex
HMAC-SHA1 of the body.  A webhook is keyed with ``webhook_secret_key`` (the webhook's
secret, or an integration's client secret); a drain with ``vercel_log_drains_secret``,
its signature secret.  Hookdeck's optional ``webhook_secret_key`` of a log drain is kept
but not used to sign.  Vercel's unsigned probe when a drain is created expects an
``x-vercel-verify`` answer, which is not a verification and is refused here."""

from __future__ import annotations

from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature


def _signed_with(secret_name: str) -> Provider:
    def verify(configs: Configs, signed: Signed) -> bool:
        expected = signature(configs[secret_name], signed.body, "hex", "sha1")
        return same(signed.headers.get("x-vercel-signature", ""), expected)

    return Provider((secret_name,), verify, secrets=("webhook_secret_key", secret_name))


PROVIDERS = {
    "vercel": _signed_with("webhook_secret_key"),
    "vercel_log_drains": _signed_with("vercel_log_drains_secret"),
}
