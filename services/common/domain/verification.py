"""Inbound verification: is this request really from the source's provider?  Pure.

A source's ``verification`` is Hookdeck's ``{"type": ..., "configs": {...}}``:

- ``hmac``: ``webhook_secret_key``, ``header_key``, ``algorithm`` (sha1, sha256,
  sha512), ``encoding`` (hex, base64, base64url): the header holds the HMAC of the body;
- ``basic_auth``: ``username``, ``password``;
- ``api_key``: ``header_key``, ``api_key``: the header holds the key;
- ``stripe``: ``webhook_secret_key`` (``whsec_…``): ``stripe-signature: t=…,v1=…``,
  HMAC-SHA256 of ``"{t}.{body}"``, at most 5 minutes old;
- ``github``: ``webhook_secret_key``: ``x-hub-signature-256: sha256=<hex HMAC>``;
- ``shopify``: ``webhook_secret_key``: ``x-shopify-hmac-sha256: <base64 HMAC>``;
- ``standard_webhooks`` (and ``svix``, the same scheme under ``svix-*`` headers):
  ``webhook_secret_key`` (``whsec_…``), checked by the ``standardwebhooks`` package
  (signature and a 5-minute timestamp tolerance).

Every comparison is constant-time.
"""

from __future__ import annotations

import binascii
import hmac
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import EmptyWebhookSecretError, WebhookVerificationError

from hookhouse.common.domain.signing import ALGORITHMS, ENCODINGS, digest, encode

TOLERANCE_SECONDS = 300
REQUIRED: dict[str, tuple[str, ...]] = {
    "hmac": ("webhook_secret_key", "header_key"),
    "basic_auth": ("username", "password"),
    "api_key": ("header_key", "api_key"),
    "stripe": ("webhook_secret_key",),
    "github": ("webhook_secret_key",),
    "shopify": ("webhook_secret_key",),
    "standard_webhooks": ("webhook_secret_key",),
    "svix": ("webhook_secret_key",),
}
SECRETS = ("webhook_secret_key", "password", "api_key")


class InvalidVerification(ValueError):
    """The verification config is unusable; the message says why."""


def check(verification: Any) -> dict[str, Any] | None:
    """The config, checked (``None`` for no verification), or InvalidVerification."""
    if verification is None:
        return None
    kind = verification.get("type") if isinstance(verification, dict) else None
    if not isinstance(kind, str) or kind not in REQUIRED:
        raise InvalidVerification(f"verification.type must be one of {', '.join(REQUIRED)}")
    configs = verification.get("configs")
    if not isinstance(configs, dict):
        raise InvalidVerification("verification.configs must be an object")
    for name in REQUIRED[kind]:
        if not isinstance(configs.get(name), str) or not configs[name]:
            raise InvalidVerification(f"verification.configs.{name} is required for {kind}")
    if kind == "hmac":
        algorithm, encoding = configs.get("algorithm", "sha256"), configs.get("encoding", "base64")
        if not (isinstance(algorithm, str) and algorithm in ALGORITHMS):
            raise InvalidVerification(f"algorithm must be one of {', '.join(ALGORITHMS)}")
        if not (isinstance(encoding, str) and encoding in ENCODINGS):
            raise InvalidVerification(f"encoding must be one of {', '.join(ENCODINGS)}")
    if kind in ("standard_webhooks", "svix"):
        try:
            Webhook(configs["webhook_secret_key"])
        except (binascii.Error, ValueError, EmptyWebhookSecretError) as exc:
            raise InvalidVerification("webhook_secret_key must be whsec_<base64>") from exc
    return {"type": kind, "configs": configs}


def verify(verification: dict[str, Any], headers: dict[str, str], body: bytes, now: float) -> bool:
    """True when the request carries what the source's provider would send."""
    kind, configs = verification["type"], verification["configs"]
    secret = str(configs.get("webhook_secret_key", "")).encode()
    if kind == "hmac":
        sent = headers.get(configs["header_key"].lower(), "")
        algorithm = configs.get("algorithm", "sha256")
        expected = encode(digest(secret, body, algorithm), configs.get("encoding", "base64"))
        return _same(sent.removeprefix(f"{algorithm}="), expected)
    if kind == "basic_auth":
        pair = f"{configs['username']}:{configs['password']}".encode()
        return _same(headers.get("authorization", ""), "Basic " + encode(pair, "base64"))
    if kind == "api_key":
        return _same(headers.get(configs["header_key"].lower(), ""), configs["api_key"])
    if kind == "github":
        expected = "sha256=" + encode(digest(secret, body), "hex")
        return _same(headers.get("x-hub-signature-256", ""), expected)
    if kind == "shopify":
        return _same(
            headers.get("x-shopify-hmac-sha256", ""), encode(digest(secret, body), "base64")
        )
    if kind == "stripe":
        return _stripe(secret, headers.get("stripe-signature", ""), body, now)
    return _standard_webhooks(kind, configs["webhook_secret_key"], headers, body)


def _stripe(secret: bytes, header: str, body: bytes, now: float) -> bool:
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        parts.setdefault(name, []).append(value)
    stamp = (parts.get("t") or [""])[0]
    if not stamp.isdigit() or abs(now - int(stamp)) > TOLERANCE_SECONDS:
        return False
    expected = encode(digest(secret, stamp.encode() + b"." + body), "hex")
    return any(_same(candidate, expected) for candidate in parts.get("v1", []))


def _standard_webhooks(kind: str, secret: str, headers: dict[str, str], body: bytes) -> bool:
    if kind == "svix":
        headers = {
            f"webhook-{name.removeprefix('svix-')}": value
            for name, value in headers.items()
            if name.startswith("svix-")
        }
    try:
        Webhook(secret).verify(body, headers, json_parse=False)
    except (WebhookVerificationError, UnicodeDecodeError, ValueError):
        return False
    return True


def _same(sent: str, expected: str) -> bool:
    return hmac.compare_digest(sent.encode(), expected.encode())


def masked(verification: dict[str, Any] | None) -> dict[str, Any] | None:
    """For API answers: secrets show only their last four characters."""
    if not verification:
        return None
    configs = dict(verification["configs"])
    for name in SECRETS:
        if isinstance(configs.get(name), str):
            configs[name] = "****" + configs[name][-4:]
        elif configs.get(name) is not None:  # a number or a list: shown as nothing of it
            configs[name] = "****"
    return {"type": verification["type"], "configs": configs}
