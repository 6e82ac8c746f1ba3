"""Adyen: HMAC-SHA256 keyed by the webhook's HMAC key, which is hex (Adyen, "Verify HMAC
signatures"), base64-encoded; ``webhook_secret_key`` is that hex key.

- Standard webhooks (payments) sign each notification item, not the request: the body
  is ``{"notificationItems": [{"NotificationRequestItem": {...}}, ...]}`` and each item's
  ``additionalData.hmacSignature`` is the HMAC of its ``pspReference``,
  ``originalReference``, ``merchantAccountCode``, ``merchantReference``,
  ``amount.value``, ``amount.currency``, ``eventCode`` and ``success``, joined by ``:``
  (a missing one is empty).  Every item must carry a good signature.
- Other webhooks (Balance Platform, Management API, …) send ``hmacsignature``, the HMAC
  of the raw body.

A request with an ``hmacsignature`` header is held to the second; any other must be a
standard webhook.  Adyen signs no timestamp, so there is no replay protection (Adyen
answers duplicates with the same ``pspReference`` and ``eventCode``).
"""

from __future__ import annotations

import binascii
from typing import Any

import orjson

from hookhouse.common.domain.providers.base import (
    Configs,
    InvalidVerification,
    Provider,
    Signed,
    same,
)
from hookhouse.common.domain.signing import digest, encode

SIGNED_FIELDS = ("pspReference", "originalReference", "merchantAccountCode", "merchantReference")
TAIL_FIELDS = ("eventCode", "success")


def _key(configs: Configs) -> bytes:
    return binascii.unhexlify(configs["webhook_secret_key"])


def _check(configs: Configs) -> None:
    try:
        _key(configs)
    except (binascii.Error, ValueError) as exc:
        raise InvalidVerification(
            "webhook_secret_key must be Adyen's HMAC key, in hex as Adyen shows it"
        ) from exc


def _text(value: Any) -> str:
    """A field as Adyen writes it into the signed string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _item_signed(item: dict[str, Any]) -> str:
    amount = item.get("amount")
    amount = amount if isinstance(amount, dict) else {}
    fields = [item.get(name) for name in SIGNED_FIELDS]
    fields += [amount.get("value"), amount.get("currency")]
    fields += [item.get(name) for name in TAIL_FIELDS]
    return ":".join(_text(value) for value in fields)


def _item_good(key: bytes, entry: Any) -> bool:
    item = entry.get("NotificationRequestItem") if isinstance(entry, dict) else None
    if not isinstance(item, dict):
        return False
    extra = item.get("additionalData")
    sent = extra.get("hmacSignature") if isinstance(extra, dict) else None
    if not isinstance(sent, str):
        return False
    return same(sent, encode(digest(key, _item_signed(item).encode()), "base64"))


def _adyen(configs: Configs, signed: Signed) -> bool:
    key = _key(configs)
    header = signed.headers.get("hmacsignature")
    if header is not None:
        return same(header, encode(digest(key, signed.body), "base64"))
    try:
        notification = orjson.loads(signed.body)
    except orjson.JSONDecodeError:  # not JSON, not UTF-8, or nested too deep
        return False
    items = notification.get("notificationItems") if isinstance(notification, dict) else None
    if not (isinstance(items, list) and items):
        return False
    return all(_item_good(key, entry) for entry in items)


PROVIDERS = {"adyen": Provider(("webhook_secret_key",), _adyen, _check)}
