"""Outbound signatures; pure.

- Hookdeck: ``x-hookdeck-signature`` (or the configured prefix) = base64 of
  HMAC-SHA256(project signing secret, body).
- Standard Webhooks (also Svix's scheme): ``webhook-id``, ``webhook-timestamp`` and
  ``webhook-signature: v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>``,
  the secret given as ``whsec_<base64>``.
- Custom HMAC: a header name, an algorithm (sha1, sha256, sha512) and an encoding
  (hex, base64, base64url) over the body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
ENCODINGS = ("hex", "base64", "base64url")


class InvalidSigningConfig(ValueError):
    pass


def digest(secret: bytes, payload: bytes, algorithm: str = "sha256") -> bytes:
    if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
        raise InvalidSigningConfig(f"algorithm must be one of {', '.join(ALGORITHMS)}")
    return hmac.new(secret, payload, ALGORITHMS[algorithm]).digest()


def encode(raw: bytes, encoding: str) -> str:
    if encoding == "hex":
        return raw.hex()
    if encoding == "base64":
        return base64.b64encode(raw).decode()
    if encoding == "base64url":
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")
    raise InvalidSigningConfig(f"encoding must be one of {', '.join(ENCODINGS)}")


def hookdeck_signature(secret: str, body: bytes) -> str:
    return encode(digest(secret.encode(), body), "base64")


def standard_webhooks_secret(secret: str) -> bytes:
    text = secret.removeprefix("whsec_")
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except ValueError as exc:
        raise InvalidSigningConfig("a Standard Webhooks secret is whsec_<base64>") from exc
    if not key:
        raise InvalidSigningConfig("the Standard Webhooks secret is empty")
    return key


def standard_webhooks_headers(
    secret: str, message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    signed = f"{message_id}.{timestamp}.".encode() + body
    signature = encode(digest(standard_webhooks_secret(secret), signed), "base64")
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": f"v1,{signature}",
    }


def custom_signature(secret: str, body: bytes, algorithm: str, encoding: str) -> str:
    return encode(digest(secret.encode(), body, algorithm), encoding)
