"""Standard Webhooks (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``) and
Svix, the same scheme under ``svix-*`` headers: ``webhook_secret_key`` is ``whsec_…``, and
the ``standardwebhooks`` package checks the signature and a 5-minute tolerance."""

from __future__ import annotations

import binascii

from standardwebhooks import Webhook
from standardwebhooks.webhooks import EmptyWebhookSecretError, WebhookVerificationError

from hookhouse.common.domain.providers.base import Configs, InvalidVerification, Provider, Signed


def _check(configs: Configs) -> None:
    try:
        Webhook(configs["webhook_secret_key"])
    except (binascii.Error, ValueError, EmptyWebhookSecretError) as exc:
        raise InvalidVerification("webhook_secret_key must be whsec_<base64>") from exc


def _verify(configs: Configs, headers: dict[str, str], body: bytes) -> bool:
    try:
        Webhook(configs["webhook_secret_key"]).verify(body, headers, json_parse=False)
    except (WebhookVerificationError, UnicodeDecodeError, ValueError):
        return False
    return True


def _standard(configs: Configs, signed: Signed) -> bool:
    return _verify(configs, signed.headers, signed.body)


def _svix(configs: Configs, signed: Signed) -> bool:
    renamed = {
        f"webhook-{name.removeprefix('svix-')}": value
        for name, value in signed.headers.items()
        if name.startswith("svix-")
    }
    return _verify(configs, renamed, signed.body)


PROVIDERS = {
    "standard_webhooks": Provider(("webhook_secret_key",), _standard, _check),
    "svix": Provider(("webhook_secret_key",), _svix, _check),
}
