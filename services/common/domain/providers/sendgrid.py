"""Twilio SendGrid's signed Event Webhook: ``x-twilio-email-event-webhook-signature`` is
the base64 ECDSA (P-256, SHA-256) signature of ``x-twilio-email-event-webhook-timestamp``
followed by the body, and ``webhook_secret_key`` is the verification key SendGrid shows (the
base64 of the public key's DER, or a PEM). SendGrid defines no tolerance for the
timestamp, so its age is not checked."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes

from hookhouse.common.domain.providers.base import Configs, Provider, Signed
from hookhouse.common.domain.providers.keys import ecdsa_key, ecdsa_signed, unbase64

REFUSAL = (
    "webhook_secret_key must be SendGrid's verification key (an EC public key, base64 DER or PEM)"
)


def _check(configs: Configs) -> None:
    ecdsa_key(configs["webhook_secret_key"], REFUSAL)


def _sendgrid(configs: Configs, signed: Signed) -> bool:
    stamp = signed.headers.get("x-twilio-email-event-webhook-timestamp", "")
    sent = signed.headers.get("x-twilio-email-event-webhook-signature", "")
    if not (stamp and sent):
        return False
    message = stamp.encode() + signed.body
    return ecdsa_signed(configs["webhook_secret_key"], unbase64(sent), message, hashes.SHA256())


PROVIDERS = {"sendgrid": Provider(("webhook_secret_key",), _sendgrid, _check)}
