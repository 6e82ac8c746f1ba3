"""Recharge sends two signatures on every webhook, both keyed by the API client secret
(``webhook_secret_key``) (Recharge, "Webhooks: validating webhooks" and the changelog
"Webhook signatures now support timestamp verification"):

- the timestamped one, which Recharge recommends: ``x-recharge-webhook-signature:
  t=<seconds>,v1=<hex HMAC-SHA256 of "{t}.{body}">`` (more ``v1``, or later ``v2``, may
  follow), with ``x-recharge-webhook-timestamp`` repeating ``t``; Recharge refuses
  requests older than 48 hours, and so does hookhouse.
- the older one, still sent: ``x-recharge-hmac-sha256``, the hex SHA-256 of the secret
  followed by the body; a plain hash, not an HMAC, and no timestamp.

Hookdeck's config describes the older one: ``header_key``, ``algorithm`` and ``encoding``
(defaults ``x-recharge-hmac-sha256``, ``sha256``, ``hex``: Recharge's own).  A request
carrying the timestamped signature is held to it; one without it is checked the older
way.  Since Recharge sends both, someone who captured a delivery can drop the timestamped
header and replay it; and a plain hash of secret then body can be extended without the
secret (the signature of that body, hash padding and more bytes follows from the
captured one).  The older scheme is the weaker one; the timestamped one has neither flaw.
"""

from __future__ import annotations

import hashlib

from hookhouse.common.domain.providers import stamps
from hookhouse.common.domain.providers.base import (
    Configs,
    InvalidVerification,
    Provider,
    Signed,
    check_digest,
    same,
    signature,
)
from hookhouse.common.domain.signing import encode

TOLERANCE_SECONDS = 48 * 3600
DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


def _check(configs: Configs) -> None:
    # Hookdeck's enum also has md5; Recharge never uses it, and hookhouse refuses it.
    check_digest(configs, DIGESTS, "hex")
    header = configs.get("header_key", "x-recharge-hmac-sha256")
    if not (isinstance(header, str) and header):
        raise InvalidVerification("header_key must be a header name")


def _timestamped(secret: str, sent: str, signed: Signed) -> bool:
    parts: dict[str, list[str]] = {}
    for item in sent.split(","):
        name, _, value = item.strip().partition("=")
        parts.setdefault(name, []).append(value)
    stamp = (parts.get("t") or [""])[0]
    if signed.headers.get("x-recharge-webhook-timestamp", stamp) != stamp:
        return False
    if not stamps.fresh(stamp, signed.now, TOLERANCE_SECONDS):
        return False
    expected = signature(secret, f"{stamp}.".encode() + signed.body, "hex")
    return any(same(candidate, expected) for candidate in parts.get("v1", []))


def _older(configs: Configs, signed: Signed) -> bool:
    header = configs.get("header_key", "x-recharge-hmac-sha256").lower()
    digest = DIGESTS[configs.get("algorithm", "sha256")]
    hashed = digest(configs["webhook_secret_key"].encode() + signed.body).digest()
    return same(signed.headers.get(header, ""), encode(hashed, configs.get("encoding", "hex")))


def _recharge(configs: Configs, signed: Signed) -> bool:
    sent = signed.headers.get("x-recharge-webhook-signature")
    if sent is not None:
        return _timestamped(configs["webhook_secret_key"], sent, signed)
    return _older(configs, signed)


PROVIDERS = {"recharge": Provider(("webhook_secret_key",), _recharge, _check)}
