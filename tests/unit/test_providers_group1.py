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

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookhouse.common.domain.providers import HOOKDECK_TYPES, PROVIDERS
from hookhouse.common.domain.verification import InvalidVerification, check, masked, verify

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
    "recharge",
    "twilio",
    "adyen",
    "hubspot",
    "cloudsignal",
    "gitlab",
    "postmark",
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


# -- Recharge -------------------------------------------------------------------------


def test_recharge_timestamped_signature_within_48_hours() -> None:
    recharge = config("recharge", webhook_secret_key=SECRET)

    def headers(stamp: str, secret: str = SECRET) -> dict[str, str]:
        sent = mac(secret, f"{stamp}.".encode() + BODY).hex()
        return {
            "x-recharge-webhook-timestamp": stamp,
            "x-recharge-webhook-signature": f"t={stamp},v1={sent}",
        }

    day_old = str(int(NOW) - 24 * 3600)
    assert verify(recharge, headers(day_old), BODY, NOW)
    assert not verify(recharge, headers(STAMP), BODY + b" ", NOW)
    assert not verify(recharge, headers(STAMP, OTHER), BODY, NOW)
    assert not verify(recharge, headers(str(int(NOW) - 48 * 3600 - 1)), BODY, NOW)
    moved = {**headers(STAMP), "x-recharge-webhook-timestamp": str(int(NOW) - 1)}
    assert not verify(recharge, moved, BODY, NOW)
    # A timestamped header that does not match is not rescued by the older header.
    older = hashlib.sha256(SECRET.encode() + BODY).hexdigest()
    forged = {"x-recharge-webhook-signature": f"t={STAMP},v1=00", "x-recharge-hmac-sha256": older}
    assert not verify(recharge, forged, BODY, NOW)


def test_recharge_older_signature_is_a_plain_hash_of_secret_and_body() -> None:
    recharge = config("recharge", webhook_secret_key=SECRET)
    sent = hashlib.sha256(SECRET.encode() + BODY).hexdigest()
    assert verify(recharge, {"x-recharge-hmac-sha256": sent}, BODY, NOW)
    assert not verify(recharge, {"x-recharge-hmac-sha256": sent}, BODY + b" ", NOW)
    wrong = hashlib.sha256(OTHER.encode() + BODY).hexdigest()
    assert not verify(recharge, {"x-recharge-hmac-sha256": wrong}, BODY, NOW)
    assert not verify(recharge, {"x-recharge-hmac-sha256": mac(SECRET, BODY).hex()}, BODY, NOW)
    assert not verify(recharge, {}, BODY, NOW)


def test_recharge_hookdeck_configs_choose_the_older_header_algorithm_and_encoding() -> None:
    recharge = config(
        "recharge",
        webhook_secret_key=SECRET,
        header_key="X-Recharge-Hmac-Sha256",
        algorithm="sha512",
        encoding="base64",
    )
    sent = b64(hashlib.sha512(SECRET.encode() + BODY).digest())
    assert verify(recharge, {"x-recharge-hmac-sha256": sent}, BODY, NOW)
    with pytest.raises(InvalidVerification, match="algorithm"):
        check({"type": "recharge", "configs": {"webhook_secret_key": "k", "algorithm": "md5"}})
    with pytest.raises(InvalidVerification, match="encoding"):
        check({"type": "recharge", "configs": {"webhook_secret_key": "k", "encoding": "hex2"}})


# -- Twilio ---------------------------------------------------------------------------

# Twilio's documented example ("Webhooks security"): this auth token, URL and form, and
# the signature Twilio shows for them.
TWILIO_TOKEN = "12345"
TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_FORM = (
    b"CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234"
    b"&From=%2B12349013030&To=%2B18005551212"
)
TWILIO_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_twilio_documented_example() -> None:
    twilio = config("twilio", webhook_secret_key=TWILIO_TOKEN)
    sent = {"x-twilio-signature": TWILIO_SIGNATURE}
    assert verify(twilio, sent, TWILIO_FORM, NOW, TWILIO_URL)
    assert not verify(twilio, sent, TWILIO_FORM + b"&Extra=1", NOW, TWILIO_URL)
    assert not verify(twilio, sent, TWILIO_FORM, NOW, TWILIO_URL + "&baz=3")
    assert not verify(
        config("twilio", webhook_secret_key=OTHER), sent, TWILIO_FORM, NOW, TWILIO_URL
    )
    assert not verify(twilio, {}, TWILIO_FORM, NOW, TWILIO_URL)


def test_twilio_signature_made_with_the_default_port_written_out() -> None:
    twilio = config("twilio", webhook_secret_key=TWILIO_TOKEN)
    with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    params = "CallSidCA1234567890ABCDECaller+12349013030Digits1234From+12349013030To+18005551212"
    signed = (with_port + params).encode()
    sent = {"x-twilio-signature": b64(mac(TWILIO_TOKEN, signed, hashlib.sha1))}
    assert verify(twilio, sent, TWILIO_FORM, NOW, TWILIO_URL)


def test_twilio_json_body_is_named_by_its_hash_in_the_url() -> None:
    twilio = config("twilio", webhook_secret_key=TWILIO_TOKEN)
    url = "https://hooks.example.com/e/src_1?bodySHA256=" + hashlib.sha256(BODY).hexdigest()
    sent = {"x-twilio-signature": b64(mac(TWILIO_TOKEN, url.encode(), hashlib.sha1))}
    assert verify(twilio, sent, BODY, NOW, url)
    assert not verify(twilio, sent, BODY + b" ", NOW, url)  # the hash no longer matches


def test_twilio_get_signs_the_url_alone() -> None:
    twilio = config("twilio", webhook_secret_key=TWILIO_TOKEN)
    url = "https://hooks.example.com/e/src_1?CallSid=CA1&From=%2B1"
    sent = {"x-twilio-signature": b64(mac(TWILIO_TOKEN, url.encode(), hashlib.sha1))}
    assert verify(twilio, sent, b"", NOW, url, "GET")
    assert not verify(twilio, sent, b"", NOW, url.replace("CA1", "CA2"), "GET")


# -- Adyen ----------------------------------------------------------------------------

# Adyen's documented example ("Verify HMAC signatures"): this hex HMAC key and
# notification item, and the hmacSignature Adyen shows for them.
ADYEN_KEY = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"
ADYEN_ITEM: dict[str, Any] = {
    "pspReference": "7914073381342284",
    "merchantAccountCode": "TestMerchant",
    "merchantReference": "TestPayment-1407325143704",
    "amount": {"value": 1130, "currency": "EUR"},
    "eventCode": "AUTHORISATION",
    "success": "true",
    "additionalData": {"hmacSignature": "coqCmt/IZ4E3CzPvMY8zTjQVL5hYJUiBRg8UU+iCWo0="},
}


def adyen_body(*items: dict[str, Any]) -> bytes:
    entries = [{"NotificationRequestItem": item} for item in items]
    return orjson.dumps({"live": "false", "notificationItems": entries})


def test_adyen_standard_webhook_documented_example() -> None:
    adyen = config("adyen", webhook_secret_key=ADYEN_KEY)
    assert verify(adyen, {}, adyen_body(ADYEN_ITEM), NOW)
    changed = {**ADYEN_ITEM, "amount": {"value": 1131, "currency": "EUR"}}
    assert not verify(adyen, {}, adyen_body(changed), NOW)
    assert not verify(adyen, {}, adyen_body(ADYEN_ITEM, changed), NOW)  # every item
    other_key = config("adyen", webhook_secret_key="00" * 32)
    assert not verify(other_key, {}, adyen_body(ADYEN_ITEM), NOW)
    unsigned = {name: value for name, value in ADYEN_ITEM.items() if name != "additionalData"}
    assert not verify(adyen, {}, adyen_body(unsigned), NOW)
    assert not verify(adyen, {}, adyen_body(), NOW)
    assert not verify(adyen, {}, b"[" * 5000, NOW)


def test_adyen_other_webhooks_sign_the_body_in_a_header() -> None:
    adyen = config("adyen", webhook_secret_key=ADYEN_KEY)
    sent = {"hmacsignature": b64(mac(bytes.fromhex(ADYEN_KEY), BODY))}
    assert verify(adyen, sent, BODY, NOW)
    assert not verify(adyen, sent, BODY + b" ", NOW)
    wrong = {"hmacsignature": b64(mac(ADYEN_KEY, BODY))}  # the key's text, not its bytes
    assert not verify(adyen, wrong, BODY, NOW)
    with pytest.raises(InvalidVerification, match="hex"):
        check({"type": "adyen", "configs": {"webhook_secret_key": "not hex"}})


# -- HubSpot --------------------------------------------------------------------------

HUBSPOT_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"  # the secret in HubSpot's examples


def test_hubspot_v3() -> None:
    hubspot = config("hubspot", webhook_secret_key=HUBSPOT_SECRET)
    url = "https://hooks.example.com/e/src_1?portal=62515&name=a%3Ab%20c"
    signed_uri = "https://hooks.example.com/e/src_1?portal=62515&name=a:b%20c"

    def headers(stamp: str, secret: str = HUBSPOT_SECRET) -> dict[str, str]:
        source = f"POST{signed_uri}".encode() + BODY + stamp.encode()
        return {
            "x-hubspot-request-timestamp": stamp,
            "x-hubspot-signature-v3": b64(mac(secret, source)),
        }

    assert verify(hubspot, headers(STAMP_MS), BODY, NOW, url)
    assert not verify(hubspot, headers(STAMP_MS), BODY + b" ", NOW, url)
    assert not verify(hubspot, headers(STAMP_MS, OTHER), BODY, NOW, url)
    assert not verify(hubspot, headers(STALE_MS), BODY, NOW, url)
    assert not verify(hubspot, headers(STAMP_MS), BODY, NOW, url.replace("62515", "1"))
    assert not verify(hubspot, {"x-hubspot-request-timestamp": STAMP_MS}, BODY, NOW, url)


def test_hubspot_v1_documented_example() -> None:
    hubspot = config("hubspot", webhook_secret_key=HUBSPOT_SECRET)
    body = (
        b'[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
        b'"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,'
        b'"changeSource":"CRM","changeFlag":"NEW","appId":54321}]'
    )
    sent = {
        "x-hubspot-signature-version": "v1",
        "x-hubspot-signature": "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de",
    }
    assert verify(hubspot, sent, body, NOW)
    assert not verify(hubspot, sent, body + b" ", NOW)
    assert not verify(config("hubspot", webhook_secret_key=OTHER), sent, body, NOW)
    assert not verify(hubspot, {"x-hubspot-signature": sent["x-hubspot-signature"]}, body, NOW)


def test_hubspot_v2_documented_example() -> None:
    hubspot = config("hubspot", webhook_secret_key=HUBSPOT_SECRET)
    url = "https://www.example.com/webhook_uri"
    sent = {
        "x-hubspot-signature-version": "v2",
        "x-hubspot-signature": "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e",
    }
    assert verify(hubspot, sent, b"", NOW, url, "GET")
    assert not verify(hubspot, sent, b"", NOW, url + "2", "GET")
    assert not verify(hubspot, sent, b"", NOW, url, "POST")


def test_hubspot_a_v3_header_is_never_rescued_by_an_older_signature() -> None:
    hubspot = config("hubspot", webhook_secret_key=SECRET)
    older = hashlib.sha256(SECRET.encode() + BODY).hexdigest()
    sent = {
        "x-hubspot-signature-v3": "bad",
        "x-hubspot-request-timestamp": STAMP_MS,
        "x-hubspot-signature-version": "v1",
        "x-hubspot-signature": older,
    }
    assert not verify(hubspot, sent, BODY, NOW)


# -- shared secrets, not signatures ---------------------------------------------------


def test_cloudsignal_key_in_the_body() -> None:
    cloudsignal = config("cloudsignal", api_key="wh-key")
    signal = {"apikey": "wh-key", "type": "ItemShipped", "order": "1", "datetime": "2026-01-01"}
    assert verify(cloudsignal, {}, orjson.dumps(signal), NOW)
    assert not verify(cloudsignal, {}, orjson.dumps({**signal, "apikey": "other"}), NOW)
    assert not verify(cloudsignal, {}, orjson.dumps({"type": "ItemShipped"}), NOW)
    assert not verify(cloudsignal, {}, orjson.dumps([signal]), NOW)
    assert not verify(cloudsignal, {}, b"\xff not json", NOW)
    assert not verify(cloudsignal, {}, b"[" * 5000, NOW)
    assert masked(cloudsignal) == {"type": "cloudsignal", "configs": {"api_key": "****-key"}}


def test_gitlab_token() -> None:
    gitlab = config("gitlab", api_key="tok-1")
    assert verify(gitlab, {"x-gitlab-token": "tok-1"}, BODY, NOW)
    assert not verify(gitlab, {"x-gitlab-token": "tok-2"}, BODY, NOW)
    assert not verify(gitlab, {}, BODY, NOW)


def test_postmark_basic_auth() -> None:
    postmark = config("postmark", username="pm", password="pw")
    good = "Basic " + b64(b"pm:pw")
    assert verify(postmark, {"authorization": good}, BODY, NOW)
    assert not verify(postmark, {"authorization": "Basic " + b64(b"pm:other")}, BODY, NOW)
    assert not verify(postmark, {}, BODY, NOW)
    assert masked(postmark) == {
        "type": "postmark",
        "configs": {"username": "pm", "password": "****pw"},
    }
    with pytest.raises(InvalidVerification, match="password is required"):
        check({"type": "postmark", "configs": {"username": "pm"}})


@pytest.mark.parametrize("kind", sorted(GROUP))
def test_a_missing_secret_is_refused_when_the_source_is_written(kind: str) -> None:
    with pytest.raises(InvalidVerification, match="is required"):
        check({"type": kind, "configs": {}})


# -- properties -----------------------------------------------------------------------

CONFIGS: dict[str, dict[str, str]] = {
    "cloudsignal": {"api_key": "k"},
    "twitter": {"api_key": "k"},
    "gitlab": {"api_key": "k"},
    "postmark": {"username": "u", "password": "p"},
    "adyen": {"webhook_secret_key": ADYEN_KEY},
}
HEADERS = [
    "authorization",
    "courier-signature",
    "hmacsignature",
    "typeform-signature",
    "x-front-request-timestamp",
    "x-front-signature",
    "x-hubspot-request-timestamp",
    "x-hubspot-signature",
    "x-hubspot-signature-v3",
    "x-hubspot-signature-version",
    "x-oura-timestamp",
    "x-oura-signature",
    "x-recharge-hmac-sha256",
    "x-recharge-webhook-signature",
    "x-recharge-webhook-timestamp",
    "x-twilio-signature",
    "x-zm-request-timestamp",
    "x-zm-signature",
    "x-akeneo-request-signature",
    "x-akeneo-request-timestamp",
    "x-gitlab-token",
]


@given(
    kind=st.sampled_from(sorted(GROUP)),
    headers=st.dictionaries(st.sampled_from(HEADERS), st.text(max_size=40), max_size=6),
    body=st.binary(max_size=300),
    url=st.text(max_size=60),
    method=st.sampled_from(["POST", "GET", "post"]),
)
def test_any_request_is_answered_true_or_false_never_an_error(
    kind: str, headers: dict[str, str], body: bytes, url: str, method: str
) -> None:
    """Whatever an unauthenticated sender puts in headers, body or path, verification
    answers; a raise would be a 500 instead of a 401."""
    verification = config(kind, **CONFIGS.get(kind, {"webhook_secret_key": "k"}))
    assert verify(verification, headers, body, NOW, url, method) in (True, False)


@given(
    scheme=st.sampled_from(BODY_SIGNED),
    secret=st.text(min_size=1, max_size=30),
    body=st.binary(max_size=500),
)
def test_body_signatures_accept_exactly_their_own_body(
    scheme: tuple[str, str, str, Callable[[bytes], str]], secret: str, body: bytes
) -> None:
    kind, name, header, written = scheme
    if kind == "twitter":  # X signs JSON objects only (its CRC answer signs anything else)
        body = b"{" + body
    verification = config(kind, **{name: secret})
    sent = {header: written(mac(secret, body))}
    assert verify(verification, sent, body, NOW)
    assert not verify(verification, sent, body + b"\x00", NOW)
