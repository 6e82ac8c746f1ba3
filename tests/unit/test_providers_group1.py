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
    "courier",
    "frontapp",
    "zoom",
    "akeneo",
    "oura",
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


# -- timestamped HMACs ----------------------------------------------------------------


def test_courier() -> None:
    courier = config("courier", webhook_secret_key=SECRET)

    def header(stamp: str, secret: str = SECRET, body: bytes = BODY) -> dict[str, str]:
        sent = mac(secret, f"{stamp}.".encode() + body).hex()
        return {"courier-signature": f"t={stamp},signature={sent}"}

    assert verify(courier, header(STAMP_MS), BODY, NOW)  # Courier sends milliseconds
    assert verify(courier, header(STAMP), BODY, NOW)
    assert not verify(courier, header(STAMP_MS), BODY + b" ", NOW)
    assert not verify(courier, header(STAMP_MS, OTHER), BODY, NOW)
    assert not verify(courier, header(STALE_MS), BODY, NOW)
    assert not verify(courier, {}, BODY, NOW)
    # Not timestamps, and answered as such rather than raised on by int().
    assert not verify(courier, {"courier-signature": "t=²,signature=00"}, BODY, NOW)
    assert not verify(courier, {"courier-signature": f"t={'1' * 5000},signature=00"}, BODY, NOW)


def test_frontapp_application_webhooks() -> None:
    front = config("frontapp", webhook_secret_key=SECRET)

    def headers(stamp: str, secret: str = SECRET) -> dict[str, str]:
        sent = b64(mac(secret, f"{stamp}:".encode() + BODY))
        return {"x-front-request-timestamp": stamp, "x-front-signature": sent}

    assert verify(front, headers(STAMP_MS), BODY, NOW)
    assert not verify(front, headers(STAMP_MS), BODY + b" ", NOW)
    assert not verify(front, headers(STAMP_MS, OTHER), BODY, NOW)
    assert not verify(front, headers(STALE_MS), BODY, NOW)
    assert not verify(front, {"x-front-request-timestamp": STAMP_MS}, BODY, NOW)


def test_frontapp_rule_webhooks_sign_the_body_with_sha1() -> None:
    front = config("frontapp", webhook_secret_key=SECRET)
    sent = b64(mac(SECRET, BODY, hashlib.sha1))
    assert verify(front, {"x-front-signature": sent}, BODY, NOW)
    assert not verify(front, {"x-front-signature": sent}, BODY + b" ", NOW)
    # Once a timestamp is sent, only the application scheme is accepted.
    with_stamp = {"x-front-signature": sent, "x-front-request-timestamp": STAMP_MS}
    assert not verify(front, with_stamp, BODY, NOW)


def test_zoom() -> None:
    zoom = config("zoom", webhook_secret_key=SECRET)

    def headers(stamp: str, secret: str = SECRET) -> dict[str, str]:
        sent = "v0=" + mac(secret, f"v0:{stamp}:".encode() + BODY).hex()
        return {"x-zm-request-timestamp": stamp, "x-zm-signature": sent}

    assert verify(zoom, headers(STAMP), BODY, NOW)
    assert not verify(zoom, headers(STAMP), BODY + b" ", NOW)
    assert not verify(zoom, headers(STAMP, OTHER), BODY, NOW)
    assert not verify(zoom, headers(STALE), BODY, NOW)
    assert not verify(zoom, {"x-zm-request-timestamp": STAMP}, BODY, NOW)


def test_akeneo_with_the_docs_secret_and_timestamp() -> None:
    # Akeneo's "Events API: security" example: this secret, timestamp 1602565368, and
    # hash_hmac("sha256", "{timestamp}.{body}", secret).  (Its body is elided there.)
    secret, stamp = "3ha6eonoa9icsckw8kccos084w0c0000g08g40oo4kww0gc8w4", "1602565368"
    body = b'{"events":[{"action":"product.created","event_id":"e1"}]}'
    akeneo = config("akeneo", webhook_secret_key=secret)

    def headers(sent_stamp: str, key: str = secret) -> dict[str, str]:
        sent = mac(key, f"{sent_stamp}.".encode() + body).hex()
        return {"x-akeneo-request-timestamp": sent_stamp, "x-akeneo-request-signature": sent}

    then = float(stamp)
    assert verify(akeneo, headers(stamp), body, then)
    assert not verify(akeneo, headers(stamp), body + b" ", then)
    assert not verify(akeneo, headers(stamp, OTHER), body, then)
    assert not verify(akeneo, headers(stamp), body, then + 301)
    assert not verify(akeneo, {"x-akeneo-request-timestamp": stamp}, body, then)


def test_oura_signs_timestamp_then_body_in_upper_case_hex() -> None:
    oura = config("oura", webhook_secret_key=SECRET)

    def headers(stamp: str, secret: str = SECRET) -> dict[str, str]:
        sent = mac(secret, stamp.encode() + BODY).hex().upper()
        return {"x-oura-timestamp": stamp, "x-oura-signature": sent}

    assert verify(oura, headers(STAMP), BODY, NOW)
    lower = {**headers(STAMP), "x-oura-signature": headers(STAMP)["x-oura-signature"].lower()}
    assert verify(oura, lower, BODY, NOW)
    assert not verify(oura, headers(STAMP), BODY + b" ", NOW)
    assert not verify(oura, headers(STAMP, OTHER), BODY, NOW)
    assert not verify(oura, headers(STALE), BODY, NOW)
    assert not verify(oura, {"x-oura-timestamp": STAMP}, BODY, NOW)
