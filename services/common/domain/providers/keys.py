"""Public keys and the signatures made with them, as configs and headers carry them:
text in hex, base64 or base64url (padded or not), or a PEM key.  The key-pair schemes
(Discord, Telnyx, Token.io, eBay, SendGrid, Wix) share these; each says which encoding
it uses."""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key

from hookhouse.common.domain.providers.base import InvalidVerification

PEM_BEGIN = "-----BEGIN PUBLIC KEY-----"
PEM_END = "-----END PUBLIC KEY-----"


def unbase64(text: str) -> bytes | None:
    """The bytes of base64 or base64url text, padded or not; None if it is neither."""
    cleaned = text.strip().replace("-", "+").replace("_", "/").rstrip("=")
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def unhex(text: str) -> bytes | None:
    try:
        return bytes.fromhex(text.strip())
    except ValueError:
        return None


def _pem_der(text: str) -> bytes | None:
    """The DER inside a PEM public key, with or without its line breaks (eBay's API
    returns the key on one line)."""
    inner = text.strip().removeprefix(PEM_BEGIN).removesuffix(PEM_END)
    return unbase64("".join(inner.split()))


def ed25519_key(text: str, encoding: str) -> Ed25519PublicKey:
    """An Ed25519 public key: its 32 bytes as ``encoding`` (hex or base64) text, or PEM;
    InvalidVerification when ``text`` is neither."""
    if text.strip().startswith(PEM_BEGIN):
        key = _public_key(text)
        if not isinstance(key, Ed25519PublicKey):
            raise InvalidVerification("public_key is PEM but not an Ed25519 public key")
        return key
    raw = unhex(text) if encoding == "hex" else unbase64(text)
    if raw is None or len(raw) != 32:
        raise InvalidVerification(
            f"public_key must be an Ed25519 public key: its 32 bytes in {encoding}, or PEM"
        )
    return Ed25519PublicKey.from_public_bytes(raw)


@lru_cache(maxsize=256)
def _public_key(text: str) -> PublicKeyTypes | None:
    """A public key from config text: PEM (line breaks optional, or written as ``\\n``),
    the base64 of its DER, or the base64 of a PEM; None when it is none of these."""
    cleaned = text.replace("\\n", "\n").strip()
    if not cleaned.startswith("-----BEGIN"):
        raw = unbase64("".join(cleaned.split()))
        if raw is None or not raw.startswith(b"-----BEGIN"):
            return _loaded(raw)
        cleaned = raw.decode("ascii", "replace").strip()
    if cleaned.startswith(PEM_BEGIN):
        return _loaded(_pem_der(cleaned))
    try:  # another PEM label, e.g. PKCS#1's RSA PUBLIC KEY
        return load_pem_public_key(cleaned.encode())
    except (ValueError, UnsupportedAlgorithm):
        return None


def _loaded(der: bytes | None) -> PublicKeyTypes | None:
    try:
        return load_der_public_key(der) if der else None
    except (ValueError, UnsupportedAlgorithm):
        return None


def ecdsa_key(
    text: str, refusal: str = "public_key must be an elliptic-curve public key in PEM"
) -> EllipticCurvePublicKey:
    """The elliptic-curve public key ``text`` holds; InvalidVerification(``refusal``) if none."""
    key = _public_key(text)
    if not isinstance(key, EllipticCurvePublicKey):
        raise InvalidVerification(refusal)
    return key


def rsa_key(text: str, refusal: str) -> RSAPublicKey:
    """The RSA public key ``text`` holds; InvalidVerification(``refusal``) if none."""
    key = _public_key(text)
    if not isinstance(key, RSAPublicKey):
        raise InvalidVerification(refusal)
    return key


def ed25519_signed(key_text: str, encoding: str, signature: bytes | None, message: bytes) -> bool:
    """Whether ``signature`` is the Ed25519 signature of ``message`` by the configured key."""
    if signature is None:
        return False
    try:
        ed25519_key(key_text, encoding).verify(signature, message)
    except (InvalidVerification, InvalidSignature):
        return False
    return True


def ecdsa_signed(
    key_text: str, signature: bytes | None, message: bytes, digest: hashes.HashAlgorithm
) -> bool:
    """Whether ``signature`` (DER) is the ECDSA signature of ``message`` by the configured key."""
    if signature is None:
        return False
    try:
        ecdsa_key(key_text).verify(signature, message, ECDSA(digest))
    except (InvalidVerification, InvalidSignature, ValueError):
        return False
    return True
