"""Inbound verification, per provider: what it accepts and what it refuses."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook

from hookhouse.common.domain.providers import HOOKDECK_TYPES, PROVIDERS
from hookhouse.common.domain.providers.base import same as _same
from hookhouse.common.domain.verification import InvalidVerification, check, masked, verify

BODY = b'{"id": "evt_1", "type": "order.created"}'
SECRET = "s3cr3t"
WHSEC = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
NOW = 1_795_000_000.0
STRIPE_SECRET = "whsec_stripe"


def mac(payload: bytes, algorithm: Any = hashlib.sha256, secret: str = SECRET) -> bytes:
    return hmac.new(secret.encode(), payload, algorithm).digest()


def config(kind: str, **configs: str) -> dict[str, Any]:
    checked = check({"type": kind, "configs": configs})
    assert checked is not None
    return checked


def test_hmac_with_each_algorithm_and_encoding() -> None:
    sha1_hex = config(
        "hmac", webhook_secret_key=SECRET, header_key="X-Sig", algorithm="sha1", encoding="hex"
    )
    assert verify(sha1_hex, {"x-sig": mac(BODY, hashlib.sha1).hex()}, BODY, NOW)
    assert verify(sha1_hex, {"x-sig": "sha1=" + mac(BODY, hashlib.sha1).hex()}, BODY, NOW)
    assert not verify(sha1_hex, {"x-sig": mac(BODY + b" ", hashlib.sha1).hex()}, BODY, NOW)
    b64url = config(
        "hmac",
        webhook_secret_key=SECRET,
        header_key="x-sig",
        algorithm="sha512",
        encoding="base64url",
    )
    sent = base64.urlsafe_b64encode(mac(BODY, hashlib.sha512)).decode().rstrip("=")
    assert verify(b64url, {"x-sig": sent}, BODY, NOW)
    assert not verify(b64url, {}, BODY, NOW)


def test_basic_auth_and_api_key() -> None:
    basic = config("basic_auth", username="shop", password="pw")
    good = "Basic " + base64.b64encode(b"shop:pw").decode()
    assert verify(basic, {"authorization": good}, BODY, NOW)
    assert not verify(
        basic, {"authorization": "Basic " + base64.b64encode(b"shop:x").decode()}, BODY, NOW
    )
    key = config("api_key", header_key="X-Api-Key", api_key="k1")
    assert verify(key, {"x-api-key": "k1"}, BODY, NOW)
    assert not verify(key, {"x-api-key": "k2"}, BODY, NOW)


def test_github_and_shopify() -> None:
    github = config("github", webhook_secret_key=SECRET)
    assert verify(github, {"x-hub-signature-256": "sha256=" + mac(BODY).hex()}, BODY, NOW)
    assert not verify(github, {"x-hub-signature-256": "sha256=" + mac(b"other").hex()}, BODY, NOW)
    shopify = config("shopify", webhook_secret_key=SECRET)
    sent = base64.b64encode(mac(BODY)).decode()
    assert verify(shopify, {"x-shopify-hmac-sha256": sent}, BODY, NOW)
    assert not verify(shopify, {}, BODY, NOW)


def test_stripe_signature_and_replay_tolerance() -> None:
    stripe = config("stripe", webhook_secret_key=STRIPE_SECRET)

    def header(stamp: int, secret: str = STRIPE_SECRET) -> str:
        signature = mac(f"{stamp}.".encode() + BODY, secret=secret).hex()
        return f"t={stamp},v1=deadbeef,v1={signature}"  # any v1 may match (key rolling)

    assert verify(stripe, {"stripe-signature": header(int(NOW))}, BODY, NOW)
    assert verify(stripe, {"stripe-signature": header(int(NOW) - 299)}, BODY, NOW)
    assert not verify(stripe, {"stripe-signature": header(int(NOW) - 301)}, BODY, NOW)
    assert not verify(stripe, {"stripe-signature": header(int(NOW), "whsec_other")}, BODY, NOW)
    assert not verify(stripe, {"stripe-signature": "garbage"}, BODY, NOW)


def test_standard_webhooks_and_svix_signed_by_the_reference_library() -> None:
    now = time.time()
    signer = Webhook(WHSEC)
    signed = signer.sign("msg_1", datetime.fromtimestamp(now), BODY.decode())
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now)),
        "webhook-signature": signed,
    }
    standard = config("standard_webhooks", webhook_secret_key=WHSEC)
    assert verify(standard, headers, BODY, now)
    assert not verify(standard, headers, BODY + b"x", now)
    svix = config("svix", webhook_secret_key=WHSEC)
    as_svix = {name.replace("webhook-", "svix-"): value for name, value in headers.items()}
    assert verify(svix, as_svix, BODY, now)
    assert not verify(svix, headers, BODY, now)  # svix-* headers expected
    assert not verify(standard, headers, b"\xff\xfe not utf-8", now)


@pytest.mark.parametrize(
    ("verification", "message"),
    [
        ({"type": "magic", "configs": {}}, "type must be one of"),
        ({"type": "hmac"}, "configs must be an object"),
        ({"type": "hmac", "configs": {"webhook_secret_key": "s"}}, "header_key is required"),
        (
            {
                "type": "hmac",
                "configs": {"webhook_secret_key": "s", "header_key": "h", "algorithm": "md4"},
            },
            "algorithm",
        ),
        ({"type": "standard_webhooks", "configs": {"webhook_secret_key": "whsec_!!"}}, "whsec_"),
    ],
)
def test_unusable_configs_are_refused(verification: Any, message: str) -> None:
    with pytest.raises(InvalidVerification, match=message):
        check(verification)


def test_secrets_are_masked() -> None:
    shown = masked(config("stripe", webhook_secret_key="whsec_abcdef1234"))
    assert shown == {"type": "stripe", "configs": {"webhook_secret_key": "****1234"}}
    assert masked(None) is None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(
    st.one_of(
        JSON,
        st.fixed_dictionaries({"type": JSON, "configs": JSON}),
        st.fixed_dictionaries(
            {
                "type": st.just("hmac"),
                "configs": st.fixed_dictionaries(
                    {"webhook_secret_key": st.just("k"), "algorithm": JSON, "encoding": JSON}
                ),
            }
        ),
    )
)
def test_any_json_is_either_a_config_or_refused_with_a_reason(value: Any) -> None:
    """Found by schemathesis: a list or object where text belongs raised TypeError (500)."""
    try:
        check(value)
    except InvalidVerification as exc:
        assert str(exc)


@given(
    secret=st.text(min_size=1, max_size=40),
    body=st.binary(max_size=2000),
    algorithm=st.sampled_from(["sha1", "sha256", "sha512"]),
    encoding=st.sampled_from(["hex", "base64", "base64url"]),
    prefixed=st.booleans(),
    flip=st.integers(min_value=0),
)
def test_hmac_accepts_exactly_its_own_signature(
    secret: str, body: bytes, algorithm: str, encoding: str, prefixed: bool, flip: int
) -> None:
    digest = hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).digest()
    text = {
        "hex": digest.hex(),
        "base64": base64.b64encode(digest).decode(),
        "base64url": base64.urlsafe_b64encode(digest).decode().rstrip("="),
    }[encoding]
    verification = config(
        "hmac",
        webhook_secret_key=secret,
        header_key="X-Signature",
        algorithm=algorithm,
        encoding=encoding,
    )
    sent = f"{algorithm}={text}" if prefixed else text
    assert verify(verification, {"x-signature": sent}, body, NOW)
    # Any other body, or any change to one character of the signature, is refused.
    assert not verify(verification, {"x-signature": sent}, body + b"\x00", NOW)
    index = flip % len(text)
    changed = text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]
    assert not verify(verification, {"x-signature": changed}, body, NOW)


@given(st.text(max_size=50), st.text(max_size=50))
def test_signature_comparison_is_plain_equality_done_in_constant_time(a: str, b: str) -> None:
    """``_same`` is ``hmac.compare_digest`` (constant time) on the UTF-8 bytes, and
    agrees with ``==`` for any text, including non-ASCII header values."""
    assert _same(a, b) == (a == b)
    assert _same(a, a)


def test_every_hookdeck_type_is_verified_or_refused_by_name() -> None:
    """A type the SDK names and hookhouse does not verify yet is a 422 naming it, never a
    source that accepts everything."""
    for kind in sorted(HOOKDECK_TYPES - set(PROVIDERS)):
        with pytest.raises(InvalidVerification, match=f"'{kind}' is Hookdeck's"):
            check({"type": kind, "configs": {"webhook_secret_key": "k"}})
    assert set(PROVIDERS) - HOOKDECK_TYPES == {"standard_webhooks"}  # hookhouse's own
