"""Twilio SendGrid's signed Event Webhook: ``x-twilio-email-event-webhook-signature`` is
the base64 ECDSA (P-256, SHA-256) signature of ``x-twilio-email-event-webhook-timestamp``
followed by the body, and ``webhook_secret_key`` is the verification key SendGrid shows (the
base64 of the public key's DER, or a PEM). SendGrid defines no tolerance for the
timestamp, so its age is not checked."""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hookhouse.common.domain.providers.base import (
    Configs,
    InvalidVerification,
    Provider,
    Signed,
)


@lru_cache(maxsize=256)
def _key(text: str) -> ec.EllipticCurvePublicKey:
    raw = text.strip()
    if raw.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(raw.encode())
    else:
        key = serialization.load_der_public_key(
            base64.b64decode("".join(raw.split()), validate=True)
        )
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("not an elliptic-curve public key")
    return key


def _check(configs: Configs) -> None:
    try:
        _key(configs["webhook_secret_key"])
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise InvalidVerification(
            "webhook_secret_key must be SendGrid's verification key (an EC public key, "
            "base64 DER or PEM)"
        ) from exc


def _sendgrid(configs: Configs, signed: Signed) -> bool:
    stamp = signed.headers.get("x-twilio-email-event-webhook-timestamp", "")
    sent = signed.headers.get("x-twilio-email-event-webhook-signature", "")
    if not (stamp and sent):
        return False
    try:
        key = _key(configs["webhook_secret_key"])
        key.verify(
            base64.b64decode(sent, validate=True),
            stamp.encode() + signed.body,
            ec.ECDSA(hashes.SHA256()),
        )
    except (InvalidSignature, ValueError, binascii.Error, UnsupportedAlgorithm):
        return False
    return True


PROVIDERS = {"sendgrid": Provider(("webhook_secret_key",), _sendgrid, _check)}
