"""Wix: the whole body is a JWT signed by Wix with RS256; ``webhook_secret_key`` is the
app's public key from its dashboard (PEM, or that PEM in base64). The signature over the
JWT's header and claims is checked, and its ``exp`` (``nbf``) when present against now."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from hookhouse.common.domain.providers.base import (
    Configs,
    InvalidVerification,
    Provider,
    Signed,
)
from hookhouse.common.domain.providers.keys import rsa_key

REFUSAL = "webhook_secret_key must be the Wix app's public key (an RSA key, PEM)"


def _check(configs: Configs) -> None:
    rsa_key(configs["webhook_secret_key"], REFUSAL)


def _segment(part: bytes) -> bytes:
    return base64.urlsafe_b64decode(part + b"=" * (-len(part) % 4))


def _number(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _wix(configs: Configs, signed: Signed) -> bool:
    parts = signed.body.strip().split(b".")
    if len(parts) != 3:
        return False
    try:
        header, claims = orjson.loads(_segment(parts[0])), orjson.loads(_segment(parts[1]))
        key = rsa_key(configs["webhook_secret_key"], REFUSAL)
        key.verify(
            _segment(parts[2]), parts[0] + b"." + parts[1], padding.PKCS1v15(), hashes.SHA256()
        )
    except (InvalidSignature, InvalidVerification, ValueError, binascii.Error):
        return False
    if not (isinstance(header, dict) and header.get("alg") == "RS256"):
        return False
    if not isinstance(claims, dict):
        return False
    expires, not_before = _number(claims, "exp"), _number(claims, "nbf")
    return (expires is None or signed.now < expires) and (
        not_before is None or signed.now >= not_before
    )


PROVIDERS = {"wix": Provider(("webhook_secret_key",), _wix, _check)}
