"""Verification for Slack, Discord, Square, Paddle, Vercel (webhooks and log drains),
Razorpay, Solidgate, Trello, Sanity, eBay, Telnyx, Token.io, Tebex and Mailchimp.

Each is accepted with a signature made as the provider documents (Slack's with the
values of its own worked example), and refused on a changed body, a wrong secret or
key, each signed header missing, a different URL where the URL is signed, and a stale
timestamp where the scheme has one.  Key pairs are made here with ``cryptography``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from hookhouse.common.domain.providers import HOOKDECK_TYPES, PROVIDERS
from hookhouse.common.domain.verification import InvalidVerification, check, masked, verify
from hookhouse.common.sealing import SECRET_NAMES

BODY = b'{"id": "evt_1", "type": "payment.created", "amount": 100}'
NOW = 1_795_000_000
URL = "https://hooks.example.com/e/src_abc?team=7"
SECRET = "whsec_group3"

# Slack's worked example (api.slack.com, "Verifying requests from Slack").
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SLACK_TIMESTAMP = 1531420618
SLACK_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    b"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com"
    b"%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
SLACK_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

# Solidgate's documented test values for its signature (the webhook pair is wh_pk_/wh_sk_).
SOLIDGATE_PUBLIC = "wh_pk_8f8a8k8e8k8e8y8"
SOLIDGATE_SECRET = "wh_sk_8f8a8k8e8k8e8y8"
SOLIDGATE_BODY = b'{"amount": "100", "currency": "USD"}'

MANDRILL_EVENTS = '[{"event":"send","_id":"m1"}]'
MANDRILL_BODY = b"z_extra=1&mandrill_events=" + MANDRILL_EVENTS.replace('"', "%22").encode()


def mac(secret: str, payload: bytes, algorithm: str = "sha256") -> bytes:
    return hmac.new(secret.encode(), payload, getattr(hashlib, algorithm)).digest()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def config(kind: str, **configs: str) -> dict[str, Any]:
    checked = check({"type": kind, "configs": configs})
    assert checked is not None
    return checked


# --- how each provider signs, from its documented recipe -------------------------------

Signer = Callable[[Any, bytes, int, str], dict[str, str]]


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def pem_public(key: Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> str:
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode()


def ebay_header(key: ec.EllipticCurvePrivateKey, body: bytes) -> str:
    signed = key.sign(body, ec.ECDSA(hashes.SHA1()))  # noqa: S303 - eBay's digest
    header = {"alg": "ecdsa", "kid": "k-1", "signature": b64(signed), "digest": "SHA1"}
    return b64(json.dumps(header).encode())


@dataclass(frozen=True)
class Case:
    kind: str
    configs: Callable[[Any], dict[str, str]]  # from the secret, or from the private key
    sign: Signer  # (secret or private key, body, timestamp in seconds, url) -> headers
    new_credential: Callable[[], Any]
    body: bytes = BODY
    tolerance: int | None = None  # seconds, where a timestamp is signed and checked
    signs_url: bool = False


def _secret() -> str:
    return SECRET


CASES = [
    Case(
        "slack",
        lambda s: {"webhook_secret_key": s},
        lambda s, body, t, url: {
            "x-slack-request-timestamp": str(t),
            "x-slack-signature": "v0=" + mac(s, f"v0:{t}:".encode() + body).hex(),
        },
        _secret,
        tolerance=300,
    ),
    Case(
        "discord",
        lambda k: {"public_key": raw_public(k).hex()},
        lambda k, body, t, url: {
            "x-signature-timestamp": str(t),
            "x-signature-ed25519": k.sign(str(t).encode() + body).hex(),
        },
        Ed25519PrivateKey.generate,
    ),
    Case(
        "square",
        lambda s: {"webhook_secret_key": s},
        lambda s, body, t, url: {"x-square-hmacsha256-signature": b64(mac(s, url.encode() + body))},
        _secret,
        signs_url=True,
    ),
    Case(
        "paddle",
        lambda s: {"webhook_secret_key": s},
        lambda s, body, t, url: {
            "paddle-signature": f"ts={t};h1={mac(s, f'{t}:'.encode() + body).hex()}"
        },
        _secret,
        tolerance=5,
    ),
    Case(
        "vercel",
        lambda s: {"webhook_secret_key": s},
        lambda s, body, t, url: {"x-vercel-signature": mac(s, body, "sha1").hex()},
        _secret,
    ),
    Case(
        "vercel_log_drains",
        lambda s: {"vercel_log_drains_secret": s, "webhook_secret_key": "not-the-drain-secret"},
        lambda s, body, t, url: {"x-vercel-signature": mac(s, body, "sha1").hex()},
        _secret,
    ),
    Case(
        "razorpay",
        lambda s: {"webhook_secret_key": s},
        lambda s, body, t, url: {"x-razorpay-signature": mac(s, body).hex()},
        _secret,
    ),
    Case(
        "solidgate",
        lambda s: {"webhook_secret_key": s},
        lambda s, body, t, url: {
            "merchant": SOLIDGATE_PUBLIC,
            "signature": b64(
                mac(s, SOLIDGATE_PUBLIC.encode() + body + SOLIDGATE_PUBLIC.encode(), "sha512")
                .hex()
                .encode()
            ),
        },
        lambda: SOLIDGATE_SECRET,
        body=SOLIDGATE_BODY,
    ),
    Case(
        "trello",
        lambda s: {"webhook_secret_key": s},
        lambda s, body, t, url: {"x-trello-webhook": b64(mac(s, body + url.encode(), "sha1"))},
        _secret,
        signs_url=True,
    ),
    Case(
        "sanity",
        lambda s: {"webhook_secret_key": s},
        lambda s, body, t, url: {
            "sanity-webhook-signature": f"t={t * 1000},v1="
            + b64url(mac(s, f"{t * 1000}.".encode() + body))
        },
        _secret,
    ),
    Case(
        "ebay",
        lambda k: {
            "environment": "PRODUCTION",
            "client_id": "app-1",
            "client_secret": "cs-1",
            "dev_id": "dev-1",
            "verification_token": "vt-0123456789abcdef0123456789abcdef",
            "public_key": pem_public(k),
        },
        lambda k, body, t, url: {"x-ebay-signature": ebay_header(k, body)},
        lambda: ec.generate_private_key(ec.SECP256R1()),
    ),
    Case(
        "telnyx",
        lambda k: {"public_key": b64(raw_public(k))},
        lambda k, body, t, url: {
            "telnyx-timestamp": str(t),
            "telnyx-signature-ed25519": b64(k.sign(f"{t}|".encode() + body)),
        },
        Ed25519PrivateKey.generate,
        tolerance=300,
    ),
    Case(
        "tokenio",
        lambda k: {"public_key": b64url(raw_public(k))},
        lambda k, body, t, url: {"token-signature": b64url(k.sign(body))},
        Ed25519PrivateKey.generate,
    ),
    Case(
        "tebex",
        lambda s: {"webhook_secret_key": s},
        lambda s, body, t, url: {
            "x-signature": mac(s, hashlib.sha256(body).hexdigest().encode()).hex()
        },
        _secret,
    ),
    Case(
        "mailchimp",
        lambda s: {"webhook_secret_key": s},
        # The URL, then each field's name and value, sorted by name: written out by hand.
        lambda s, body, t, url: {
            "x-mandrill-signature": b64(
                mac(s, f"{url}mandrill_events{MANDRILL_EVENTS}z_extra1".encode(), "sha1")
            )
        },
        _secret,
        body=MANDRILL_BODY,
        signs_url=True,
    ),
]
BY_KIND = {case.kind: case for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=[case.kind for case in CASES])
def test_accepted_as_signed_and_refused_when_anything_differs(case: Case) -> None:
    credential = case.new_credential()
    verification = config(case.kind, **case.configs(credential))
    headers = case.sign(credential, case.body, NOW, URL)
    assert verify(verification, headers, case.body, NOW, URL)
    # A changed body.
    assert not verify(verification, headers, case.body + b"&x=1", NOW, URL)
    # A wrong secret or key: the request signed with another, or configs with another.
    other = credential + "-other" if isinstance(credential, str) else case.new_credential()
    assert not verify(verification, case.sign(other, case.body, NOW, URL), case.body, NOW, URL)
    assert not verify(config(case.kind, **case.configs(other)), headers, case.body, NOW, URL)
    # Each header it sends, missing; and none at all.
    for name in headers:
        without = {key: value for key, value in headers.items() if key != name}
        assert not verify(verification, without, case.body, NOW, URL), name
    assert not verify(verification, {}, case.body, NOW, URL)
    if case.signs_url:
        assert not verify(verification, headers, case.body, NOW, URL + "&more=1")
        assert not verify(verification, headers, case.body, NOW, "")


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.tolerance], ids=[c.kind for c in CASES if c.tolerance]
)
def test_a_stale_or_future_timestamp_is_refused(case: Case) -> None:
    assert case.tolerance is not None
    credential = case.new_credential()
    verification = config(case.kind, **case.configs(credential))
    for stamp in (NOW - case.tolerance, NOW + case.tolerance):
        assert verify(
            verification, case.sign(credential, case.body, stamp, URL), case.body, NOW, URL
        )
    for stamp in (NOW - case.tolerance - 1, NOW + case.tolerance + 1, NOW - 86_400):
        signed = case.sign(credential, case.body, stamp, URL)
        assert not verify(verification, signed, case.body, NOW, URL), stamp


def test_slack_accepts_its_documented_example() -> None:
    slack = config("slack", webhook_secret_key=SLACK_SECRET)
    headers = {
        "x-slack-request-timestamp": str(SLACK_TIMESTAMP),
        "x-slack-signature": SLACK_SIGNATURE,
    }
    assert verify(slack, headers, SLACK_BODY, SLACK_TIMESTAMP + 10)
    assert not verify(slack, headers, SLACK_BODY + b"&x=1", SLACK_TIMESTAMP + 10)
    assert not verify(
        config("slack", webhook_secret_key=SLACK_SECRET + "x"), headers, SLACK_BODY, SLACK_TIMESTAMP
    )
    assert not verify(slack, headers, SLACK_BODY, SLACK_TIMESTAMP + 301)  # a replay, 5 min on
    stamp_changed = {**headers, "x-slack-request-timestamp": str(SLACK_TIMESTAMP + 1)}
    assert not verify(slack, stamp_changed, SLACK_BODY, SLACK_TIMESTAMP)


def test_paddle_accepts_any_h1_while_a_secret_is_rotated() -> None:
    paddle = config("paddle", webhook_secret_key=SECRET)
    good = mac(SECRET, f"{NOW}:".encode() + BODY).hex()
    old = mac("pdl_ntfset_old", f"{NOW}:".encode() + BODY).hex()
    assert verify(paddle, {"paddle-signature": f"ts={NOW};h1={old};h1={good}"}, BODY, NOW)
    assert not verify(paddle, {"paddle-signature": f"ts={NOW};h1={old}"}, BODY, NOW)
    assert not verify(paddle, {"paddle-signature": f"h1={good}"}, BODY, NOW)


def test_solidgate_signs_the_header_merchant_and_tebex_the_body_hash() -> None:
    solidgate = config("solidgate", webhook_secret_key=SOLIDGATE_SECRET)
    headers = BY_KIND["solidgate"].sign(SOLIDGATE_SECRET, SOLIDGATE_BODY, NOW, URL)
    swapped = {**headers, "merchant": "wh_pk_someone_else"}
    assert not verify(solidgate, swapped, SOLIDGATE_BODY, NOW)
    # The signature is base64 of the hex text (128 characters), not of the raw digest.
    assert len(base64.b64decode(headers["signature"])) == 128
    tebex = config("tebex", webhook_secret_key=SECRET)
    of_the_body = mac(SECRET, BODY).hex()  # the plain HMAC of the body is not Tebex's
    assert not verify(tebex, {"x-signature": of_the_body}, BODY, NOW)


def test_sanity_timestamps_are_milliseconds_and_base64url() -> None:
    sanity = config("sanity", webhook_secret_key=SECRET)
    in_seconds = b64url(mac(SECRET, f"{NOW}.".encode() + BODY))
    header = f"t={NOW * 1000},v1={in_seconds}"
    assert not verify(sanity, {"sanity-webhook-signature": header}, BODY, NOW)
    padded = base64.b64encode(mac(SECRET, f"{NOW * 1000}.".encode() + BODY)).decode()
    header = f"t={NOW * 1000},v1={padded}"
    assert not verify(sanity, {"sanity-webhook-signature": header}, BODY, NOW)


def test_key_configs_in_other_encodings_and_pem() -> None:
    key = Ed25519PrivateKey.generate()
    stamp_body = str(NOW).encode() + BODY
    headers = {"x-signature-timestamp": str(NOW), "x-signature-ed25519": key.sign(stamp_body).hex()}
    assert verify(config("discord", public_key=pem_public(key)), headers, BODY, NOW)
    telnyx = config("telnyx", public_key=pem_public(key))
    sent = {
        "telnyx-timestamp": str(NOW),
        "telnyx-signature-ed25519": b64(key.sign(f"{NOW}|".encode() + BODY)),
    }
    assert verify(telnyx, sent, BODY, NOW)
    tokenio = config("tokenio", public_key=b64(raw_public(key)))  # padded standard base64
    assert verify(tokenio, {"token-signature": b64url(key.sign(BODY))}, BODY, NOW)
    # eBay's getPublicKey returns its PEM on one line.
    ec_key = ec.generate_private_key(ec.SECP256R1())
    one_line = "".join(pem_public(ec_key).splitlines())
    ebay = config("ebay", **{**BY_KIND["ebay"].configs(ec_key), "public_key": one_line})
    assert verify(ebay, {"x-ebay-signature": ebay_header(ec_key, BODY)}, BODY, NOW)


def test_ebay_refuses_another_algorithm_in_its_header() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    ebay = config("ebay", **BY_KIND["ebay"].configs(key))
    signed = key.sign(BODY, ec.ECDSA(hashes.SHA256()))
    header = {"alg": "ecdsa", "kid": "k-1", "signature": b64(signed), "digest": "SHA256"}
    sent = b64(json.dumps(header).encode())
    assert not verify(ebay, {"x-ebay-signature": sent}, BODY, NOW)
    for garbage in ("not base64 !", b64(b"[1, 2]"), b64(b'{"alg": 1}'), b64(b"\xff\xfe")):
        assert not verify(ebay, {"x-ebay-signature": garbage}, BODY, NOW)


@pytest.mark.parametrize(
    ("verification", "message"),
    [
        ({"type": "discord", "configs": {"public_key": "zz" * 32}}, "Ed25519 public key"),
        ({"type": "discord", "configs": {"public_key": "ab" * 31}}, "32 bytes in hex"),
        ({"type": "telnyx", "configs": {"public_key": b64(b"short")}}, "32 bytes in base64"),
        ({"type": "tokenio", "configs": {"public_key": "!!!"}}, "Ed25519 public key"),
        ({"type": "telnyx", "configs": {"public_key": "-----BEGIN PUBLIC KEY-----x"}}, "PEM"),
        ({"type": "ebay", "configs": {"verification_token": "vt"}}, "does not fetch eBay's key"),
        ({"type": "ebay", "configs": {"public_key": ["pem"]}}, "public_key is required"),
        ({"type": "ebay", "configs": {"public_key": "MFkw"}}, "elliptic-curve public key"),
        ({"type": "vercel_log_drains", "configs": {"webhook_secret_key": "s"}}, "drains_secret"),
        ({"type": "slack", "configs": {}}, "webhook_secret_key is required for slack"),
    ],
)
def test_unusable_configs_are_refused_when_the_source_is_written(
    verification: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidVerification, match=message):
        check(verification)


def test_an_ed25519_key_is_not_an_ebay_key() -> None:
    with pytest.raises(InvalidVerification, match="elliptic-curve"):
        check({"type": "ebay", "configs": {"public_key": pem_public(Ed25519PrivateKey.generate())}})


def test_every_kind_here_is_hookdecks_and_its_secrets_are_sealed_and_masked() -> None:
    assert set(BY_KIND) <= HOOKDECK_TYPES
    assert set(BY_KIND) <= set(PROVIDERS)
    for kind in BY_KIND:
        assert set(PROVIDERS[kind].secrets) <= SECRET_NAMES, kind
    shown = masked(config("vercel_log_drains", vercel_log_drains_secret="drain-secret-1234"))
    assert shown == {
        "type": "vercel_log_drains",
        "configs": {"vercel_log_drains_secret": "****1234"},
    }
    key = ec.generate_private_key(ec.SECP256R1())
    shown = masked(config("ebay", **BY_KIND["ebay"].configs(key)))
    assert shown is not None
    assert shown["configs"]["client_secret"] == "****cs-1"
    assert shown["configs"]["verification_token"] == "****cdef"
    assert shown["configs"]["public_key"].startswith("-----BEGIN PUBLIC KEY-----")  # public


_FIXED: dict[str, Any] = {case.kind: case.new_credential() for case in CASES}


@given(
    kind=st.sampled_from(sorted(BY_KIND)),
    headers=st.dictionaries(
        st.sampled_from(
            [
                "x-slack-signature",
                "x-slack-request-timestamp",
                "x-signature-ed25519",
                "x-signature-timestamp",
                "x-square-hmacsha256-signature",
                "paddle-signature",
                "x-vercel-signature",
                "x-razorpay-signature",
                "merchant",
                "signature",
                "x-trello-webhook",
                "sanity-webhook-signature",
                "x-ebay-signature",
                "telnyx-timestamp",
                "telnyx-signature-ed25519",
                "token-signature",
                "x-signature",
                "x-mandrill-signature",
            ]
        ),
        st.text(max_size=120),
    ),
    body=st.binary(max_size=300),
    url=st.text(max_size=40),
)
def test_any_request_is_answered_true_or_false_never_an_error(
    kind: str, headers: dict[str, str], body: bytes, url: str
) -> None:
    """Whatever a caller sends, verification answers; it never raises (a 500)."""
    case = BY_KIND[kind]
    verification = config(kind, **case.configs(_FIXED[kind]))
    assert verify(verification, headers, body, NOW, url) in (True, False)


@pytest.mark.parametrize("stamp", ["²", "1" * 5000, "-1", " 1", "1e9", ""])
def test_a_timestamp_that_is_not_plain_digits_is_refused_not_an_error(stamp: str) -> None:
    slack = config("slack", webhook_secret_key=SECRET)
    sent = "v0=" + mac(SECRET, f"v0:{stamp}:".encode() + BODY).hex()
    headers = {"x-slack-request-timestamp": stamp, "x-slack-signature": sent}
    assert not verify(slack, headers, BODY, NOW)
