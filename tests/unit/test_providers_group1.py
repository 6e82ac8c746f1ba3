"""Verification of the first group of Hookdeck's provider types: each accepts a request
signed the way its provider documents (with the provider's own example where its docs
give one) and refuses a changed body, a wrong secret, a missing header and, where the
scheme has a timestamp, a stale one.  Expected signatures are computed here from the
documented recipe, with hashlib and hmac, not with the code under test."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import pytest

from hookhouse.common.domain.providers import HOOKDECK_TYPES, PROVIDERS
from hookhouse.common.domain.verification import check, masked, verify

NOW = 1_795_000_000.0
STAMP = str(int(NOW))
STAMP_MS = str(int(NOW * 1000))
STALE = str(int(NOW) - 301)
STALE_MS = str(int(NOW * 1000) - 301_000)
BODY = b'{"id":"evt_1","type":"order.created"}'
SECRET = "s3cr3t"
OTHER = "not-the-secret"

GROUP = {
    "typeform",
    "xero",
    "woocommerce",
    "commercelayer",
    "twitter",
    "property-finder",
}


def config(kind: str, **configs: str) -> dict[str, Any]:
    checked = check({"type": kind, "configs": configs})
    assert checked is not None
    return checked


def mac(secret: str | bytes, payload: bytes, algorithm: Any = hashlib.sha256) -> bytes:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, payload, algorithm).digest()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_every_type_of_the_group_is_registered_and_hookdecks() -> None:
    assert set(PROVIDERS) >= GROUP
    assert HOOKDECK_TYPES >= GROUP


# -- the providers that sign the body alone ------------------------------------------

BODY_SIGNED: list[tuple[str, str, str, Callable[[bytes], str]]] = [
    # (type, secret's config, header, how the header is written from the HMAC)
    ("typeform", "webhook_secret_key", "typeform-signature", lambda d: "sha256=" + b64(d)),
    ("xero", "webhook_secret_key", "x-xero-signature", b64),
    ("woocommerce", "webhook_secret_key", "x-wc-webhook-signature", b64),
    ("commercelayer", "webhook_secret_key", "x-commercelayer-signature", b64),
    ("twitter", "api_key", "x-twitter-webhooks-signature", lambda d: "sha256=" + b64(d)),
    ("property-finder", "webhook_secret_key", "x-signature", bytes.hex),
]


@pytest.mark.parametrize(("kind", "name", "header", "written"), BODY_SIGNED)
def test_body_signatures(
    kind: str, name: str, header: str, written: Callable[[bytes], str]
) -> None:
    verification = config(kind, **{name: SECRET})
    good = {header: written(mac(SECRET, BODY))}
    assert verify(verification, good, BODY, NOW)
    assert not verify(verification, good, BODY + b" ", NOW)
    assert not verify(verification, {header: written(mac(OTHER, BODY))}, BODY, NOW)
    assert not verify(verification, {}, BODY, NOW)
    assert masked(verification) == {"type": kind, "configs": {name: "****" + SECRET[-4:]}}


def test_prefixes_are_required_where_the_provider_writes_one() -> None:
    typeform = config("typeform", webhook_secret_key=SECRET)
    assert not verify(typeform, {"typeform-signature": b64(mac(SECRET, BODY))}, BODY, NOW)
    finder = config("property-finder", webhook_secret_key=SECRET)
    prefixed = {"x-signature": "sha256=" + mac(SECRET, BODY).hex()}
    assert verify(finder, prefixed, BODY, NOW)
