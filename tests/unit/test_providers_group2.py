"""Verification for issue 31's second group of Hookdeck types: each accepts what its
provider sends (a provider's published example where it gives one, else a signature made
here by the published recipe) and refuses a changed body, a wrong secret, a missing header
and, where the scheme signs a time, a stale one."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st

from hookhouse.common.domain.providers import PROVIDERS
from hookhouse.common.domain.verification import InvalidVerification, check, masked, verify
from hookhouse.common.sealing import SECRET_NAMES

SECRET = "whsec_group2"
OTHER = "not-the-secret"
NOW = 1_795_000_000.0
BODY = b'{"id": "evt_1", "type": "order.created"}'
GROUP2 = (
    "mailgun",
    "persona",
    "pipedrive",
    "sendgrid",
    "workos",
    "synctera",
    "aws_sns",
    "twitch",
    "enode",
    "favro",
    "linear",
    "shopline",
    "wix",
    "nmi",
    "orb",
    "pylon",
)


def mac(payload: bytes, secret: str = SECRET, algorithm: Any = hashlib.sha256) -> bytes:
    return hmac.new(secret.encode(), payload, algorithm).digest()


def config(kind: str, **configs: str) -> dict[str, Any]:
    checked = check({"type": kind, "configs": configs})
    assert checked is not None
    return checked


def test_every_secret_config_is_sealed_and_masked() -> None:
    for kind in GROUP2:
        assert set(PROVIDERS[kind].secrets) <= SECRET_NAMES, kind
    shown = masked(config("persona", webhook_secret_key="wbhsec_abcdef1234"))
    assert shown == {"type": "persona", "configs": {"webhook_secret_key": "****1234"}}


# Schemes that sign a time with the body: refused when it is stale.
def persona_header(stamp: int, secret: str = SECRET, body: bytes = BODY) -> str:
    return f"t={stamp},v1={mac(f'{stamp}.'.encode() + body, secret).hex()}"


def test_persona() -> None:
    persona = config("persona", webhook_secret_key=SECRET)
    good = persona_header(int(NOW))
    assert verify(persona, {"persona-signature": good}, BODY, NOW)
    # While a secret rotates: two space-separated sets, either may match.
    rotating = f"{persona_header(int(NOW), OTHER)} {good}"
    assert verify(persona, {"persona-signature": rotating}, BODY, NOW)
    assert not verify(persona, {"persona-signature": good}, BODY + b" ", NOW)
    assert not verify(persona, {"persona-signature": persona_header(int(NOW), OTHER)}, BODY, NOW)
    assert not verify(persona, {}, BODY, NOW)
    stale = persona_header(int(NOW) - 301)
    assert not verify(persona, {"persona-signature": stale}, BODY, NOW)


def test_workos() -> None:
    workos = config("workos", webhook_secret_key=SECRET)
    stamp = "1626125972272"  # the timestamp of WorkOS's compute_signature example (ms)
    now = int(stamp) / 1000

    def header(stamp: str = stamp, secret: str = SECRET) -> str:
        return f"t={stamp}, v1={mac(f'{stamp}.'.encode() + BODY, secret).hex()}"

    assert verify(workos, {"workos-signature": header()}, BODY, now)
    assert verify(workos, {"workos-signature": header()}, BODY, now + 179)
    assert not verify(workos, {"workos-signature": header()}, BODY, now + 181)
    assert not verify(workos, {"workos-signature": header()}, BODY + b" ", now)
    assert not verify(workos, {"workos-signature": header(secret=OTHER)}, BODY, now)
    assert not verify(workos, {}, BODY, now)


def test_synctera() -> None:
    synctera = config("synctera", webhook_secret_key=SECRET)
    stamp = str(int(NOW))

    def headers(stamp: str = stamp, secret: str = SECRET) -> dict[str, str]:
        sent = mac(f"{stamp}.".encode() + BODY, secret).hex()
        return {"synctera-signature": sent, "request-timestamp": stamp}

    assert verify(synctera, headers(), BODY, NOW)
    rolling = headers()
    rolling["synctera-signature"] = (
        headers(secret=OTHER)["synctera-signature"] + "." + (rolling["synctera-signature"])
    )
    assert verify(synctera, rolling, BODY, NOW)  # two signatures while a secret rolls
    assert not verify(synctera, headers(), BODY + b" ", NOW)
    assert not verify(synctera, headers(secret=OTHER), BODY, NOW)
    assert not verify(synctera, {"synctera-signature": headers()["synctera-signature"]}, BODY, NOW)
    assert not verify(synctera, headers(str(int(NOW) - 301)), BODY, NOW)


def twitch_headers(stamp: str, secret: str = SECRET, body: bytes = BODY) -> dict[str, str]:
    message_id = "e76c6bd4-55c9-4987-8304-da1588d8988b"
    sent = mac(message_id.encode() + stamp.encode() + body, secret).hex()
    return {
        "twitch-eventsub-message-id": message_id,
        "twitch-eventsub-message-timestamp": stamp,
        "twitch-eventsub-message-signature": f"sha256={sent}",
    }


def test_twitch() -> None:
    twitch = config("twitch", webhook_secret_key=SECRET)
    stamp = "2026-11-18T12:00:00.123456789Z"  # RFC 3339 with nanoseconds, as Twitch sends
    now = datetime(2026, 11, 18, 12, 0, 0, 123456, tzinfo=UTC).timestamp()
    assert verify(twitch, twitch_headers(stamp), BODY, now)
    assert verify(twitch, twitch_headers(stamp), BODY, now + 599)
    assert not verify(twitch, twitch_headers(stamp), BODY, now + 601)  # over 10 minutes old
    assert not verify(twitch, twitch_headers(stamp), BODY + b" ", now)
    assert not verify(twitch, twitch_headers(stamp, OTHER), BODY, now)
    for name in twitch_headers(stamp):
        partial = {k: v for k, v in twitch_headers(stamp).items() if k != name}
        assert not verify(twitch, partial, BODY, now)
    assert not verify(twitch, twitch_headers("yesterday"), BODY, now)


# Orb's webhook test vector (its SDKs' tests): this timestamp, payload, secret, signature.
ORB_STAMP = "2024-03-27T15:42:29.551"


ORB_PAYLOAD = (
    b'{"id": "o4mmewpfNNTnjfZc", "created_at": "2024-03-27T15:42:29+00:00", '
    b'"type": "resource_event.test", "properties": {"message": "A test webhook from Orb. '
    b'Happy testing!"}}'
)


ORB_SECRET = "c-UGKYdnhHh436B_sMouYAPUvXyWpzOdunZBV5dFSD8"


ORB_SIGNATURE = "9d25de966891ab0bc18754faf8d83d0980b44ae330fcc130b41a6cf3daf1f391"


def test_orb_published_vector() -> None:
    orb = config("orb", webhook_secret_key=ORB_SECRET)
    now = datetime(2024, 3, 27, 15, 42, 29, tzinfo=UTC).timestamp()
    headers = {"x-orb-timestamp": ORB_STAMP, "x-orb-signature": f"v1={ORB_SIGNATURE}"}
    assert verify(orb, headers, ORB_PAYLOAD, now)
    rolled = {**headers, "x-orb-signature": f"v1={'0' * 64} v1={ORB_SIGNATURE}"}
    assert verify(orb, rolled, ORB_PAYLOAD, now)
    assert not verify(orb, headers, ORB_PAYLOAD + b" ", now)
    assert not verify(config("orb", webhook_secret_key=OTHER), headers, ORB_PAYLOAD, now)
    assert not verify(orb, {"x-orb-timestamp": ORB_STAMP}, ORB_PAYLOAD, now)
    assert not verify(orb, headers, ORB_PAYLOAD, now + 6 * 60)  # too old
    assert not verify(orb, headers, ORB_PAYLOAD, now - 6 * 60)  # too new


def test_pylon_current_and_earlier_headers() -> None:
    pylon = config("pylon", webhook_secret_key=SECRET)
    stamp = str(int(NOW))

    def headers(stamp: str = stamp, secret: str = SECRET) -> dict[str, str]:
        sent = mac(f"{stamp}.".encode() + BODY, secret).hex()
        return {
            "pylon-webhook-signature": f"hs256={sent}",
            "pylon-webhook-timestamp": stamp,
            "pylon-webhook-version": "2021-07",
        }

    assert verify(pylon, headers(), BODY, NOW)
    assert not verify(pylon, headers(), BODY + b" ", NOW)
    assert not verify(pylon, headers(secret=OTHER), BODY, NOW)
    assert not verify(
        pylon, {"pylon-webhook-signature": headers()["pylon-webhook-signature"]}, BODY, NOW
    )
    assert not verify(pylon, headers(str(int(NOW) - 301)), BODY, NOW)
    assert not verify(pylon, {}, BODY, NOW)
    earlier = {"x-pylon-signature": mac(BODY).hex()}
    assert verify(pylon, earlier, BODY, NOW)
    assert not verify(pylon, earlier, BODY + b" ", NOW)
    # A current header, even a bad one, is never passed over for the earlier form.
    assert not verify(pylon, {**earlier, "pylon-webhook-signature": "hs256=00"}, BODY, NOW)


# Schemes that sign the body (or parts of it) without a time, and Basic credentials.
# Mailgun: the example signature block of "Securing Webhooks" (its token and timestamp; the
# page's signature is a placeholder, so it is computed here by the recipe).
MAILGUN_TOKEN = "e0b5477167110d68991efc6b9f89f0a11066af27834600e123"


MAILGUN_STAMP = "1770920772"


def mailgun_json(secret: str = SECRET, token: str = MAILGUN_TOKEN) -> bytes:
    sent = mac((MAILGUN_STAMP + token).encode(), secret).hex()
    block = {"token": token, "timestamp": MAILGUN_STAMP, "signature": sent}
    return json.dumps({"signature": block, "event-data": {"event": "delivered"}}).encode()


def test_mailgun_json_form_and_multipart_bodies() -> None:
    mailgun = config("mailgun", webhook_secret_key=SECRET)
    assert verify(mailgun, {"content-type": "application/json"}, mailgun_json(), NOW)
    assert not verify(mailgun, {}, mailgun_json(OTHER), NOW)
    changed = mailgun_json().replace(MAILGUN_TOKEN.encode(), b"x" * 50)  # the signed part
    assert not verify(mailgun, {}, changed, NOW)
    assert not verify(mailgun, {}, BODY, NOW)  # no signature block at all
    # Mailgun signs its timestamp and token, not the event data (see the module).
    assert verify(mailgun, {}, mailgun_json().replace(b"delivered", b"failed"), NOW)
    assert not verify(mailgun, {}, b"\xff not json", NOW)

    fields = {
        "timestamp": MAILGUN_STAMP,
        "token": MAILGUN_TOKEN,
        "signature": mac((MAILGUN_STAMP + MAILGUN_TOKEN).encode()).hex(),
        "body-plain": "hello",
    }
    form = {"content-type": "application/x-www-form-urlencoded"}
    assert verify(mailgun, form, urlencode(fields).encode(), NOW)
    assert not verify(mailgun, form, urlencode({**fields, "token": "y" * 50}).encode(), NOW)

    boundary = "b0undary"
    parts = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    )
    multipart = {"content-type": f"multipart/form-data; boundary={boundary}"}
    assert verify(mailgun, multipart, f"{parts}--{boundary}--\r\n".encode(), NOW)
    assert not verify(mailgun, multipart, b"--b0undary--\r\n", NOW)


def test_mailgun_subaccount_parent_signature() -> None:
    parent_key = "key-primary-account"
    block = {
        "token": MAILGUN_TOKEN,
        "timestamp": MAILGUN_STAMP,
        "signature": mac((MAILGUN_STAMP + MAILGUN_TOKEN).encode(), "key-subaccount").hex(),
        "parent-signature": mac((MAILGUN_STAMP + MAILGUN_TOKEN).encode(), parent_key).hex(),
    }
    body = json.dumps({"signature": block}).encode()
    assert verify(config("mailgun", webhook_secret_key=parent_key), {}, body, NOW)
    assert verify(config("mailgun", webhook_secret_key="key-subaccount"), {}, body, NOW)
    assert not verify(config("mailgun", webhook_secret_key=OTHER), {}, body, NOW)


def test_pipedrive_basic_auth() -> None:
    pipedrive = config("pipedrive", username="hookhouse", password="pw-1")
    good = "Basic " + base64.b64encode(b"hookhouse:pw-1").decode()
    assert verify(pipedrive, {"authorization": good}, BODY, NOW)
    assert verify(pipedrive, {"authorization": good}, b"any body: nothing is signed", NOW)
    wrong = "Basic " + base64.b64encode(b"hookhouse:pw-2").decode()
    assert not verify(pipedrive, {"authorization": wrong}, BODY, NOW)
    assert not verify(pipedrive, {}, BODY, NOW)
    assert masked(pipedrive) == {
        "type": "pipedrive",
        "configs": {"username": "hookhouse", "password": "****pw-1"},
    }


def test_enode() -> None:
    enode = config("enode", webhook_secret_key=SECRET)
    sent = "sha1=" + mac(BODY, algorithm=hashlib.sha1).hex()
    assert verify(enode, {"x-enode-signature": sent}, BODY, NOW)
    assert not verify(enode, {"x-enode-signature": sent}, BODY + b" ", NOW)
    wrong = "sha1=" + mac(BODY, OTHER, hashlib.sha1).hex()
    assert not verify(enode, {"x-enode-signature": wrong}, BODY, NOW)
    assert not verify(enode, {}, BODY, NOW)


FAVRO_URL = "https://hooks.example.com/e/src_favro?team=1"


def favro_body(payload_id: str = "payload-1") -> bytes:
    return json.dumps({"payloadId": payload_id, "action": "created", "card": {}}).encode()


def favro_header(payload_id: str = "payload-1", url: str = FAVRO_URL, secret: str = SECRET) -> str:
    return base64.b64encode(mac((payload_id + url).encode(), secret, hashlib.sha1)).decode()


def test_favro_signs_the_payload_id_and_the_url() -> None:
    favro = config("favro", webhook_secret_key=SECRET)
    headers = {"x-favro-webhook": favro_header()}
    assert verify(favro, headers, favro_body(), NOW, url=FAVRO_URL)
    assert not verify(favro, headers, favro_body("payload-2"), NOW, url=FAVRO_URL)
    # Favro signs the payloadId and URL only, not the rest of the body (see the module).
    unsigned_change = favro_body().replace(b"created", b"deleted")
    assert verify(favro, headers, unsigned_change, NOW, url=FAVRO_URL)
    assert not verify(favro, headers, favro_body(), NOW, url=FAVRO_URL + "&x=1")
    assert not verify(
        favro, {"x-favro-webhook": favro_header(secret=OTHER)}, favro_body(), NOW, FAVRO_URL
    )
    assert not verify(favro, {}, favro_body(), NOW, url=FAVRO_URL)
    assert not verify(favro, headers, b"not json", NOW, url=FAVRO_URL)


def linear_body(stamp_ms: float) -> bytes:
    return json.dumps(
        {"action": "create", "type": "Issue", "data": {}, "webhookTimestamp": stamp_ms}
    ).encode()


def test_linear() -> None:
    linear = config("linear", webhook_secret_key=SECRET)
    body = linear_body(int(NOW * 1000))
    assert verify(linear, {"linear-signature": mac(body).hex()}, body, NOW)
    assert not verify(linear, {"linear-signature": mac(body).hex()}, body + b" ", NOW)
    assert not verify(linear, {"linear-signature": mac(body, OTHER).hex()}, body, NOW)
    assert not verify(linear, {}, body, NOW)
    stale = linear_body(int(NOW * 1000) - 60_001)
    assert not verify(linear, {"linear-signature": mac(stale).hex()}, stale, NOW)
    unstamped = BODY
    assert not verify(linear, {"linear-signature": mac(unstamped).hex()}, unstamped, NOW)


def test_shopline_base64_or_hex() -> None:
    shopline = config("shopline", webhook_secret_key=SECRET)
    as_base64 = base64.b64encode(mac(BODY)).decode()
    assert verify(shopline, {"x-shopline-hmac-sha256": as_base64}, BODY, NOW)
    assert verify(shopline, {"x-shopline-hmac-sha256": mac(BODY).hex()}, BODY, NOW)
    assert not verify(shopline, {"x-shopline-hmac-sha256": as_base64}, BODY + b" ", NOW)
    other = base64.b64encode(mac(BODY, OTHER)).decode()
    assert not verify(shopline, {"x-shopline-hmac-sha256": other}, BODY, NOW)
    assert not verify(shopline, {}, BODY, NOW)


def test_nmi() -> None:
    nmi = config("nmi", webhook_secret_key=SECRET)
    nonce = "f3c1e9a2b7d84c15"

    def header(secret: str = SECRET, body: bytes = BODY) -> str:
        return f"t={nonce},s={mac(f'{nonce}.'.encode() + body, secret).hex()}"

    assert verify(nmi, {"webhook-signature": header()}, BODY, NOW)
    assert not verify(nmi, {"webhook-signature": header()}, BODY + b" ", NOW)
    assert not verify(nmi, {"webhook-signature": header(OTHER)}, BODY, NOW)
    assert not verify(nmi, {}, BODY, NOW)
    assert not verify(nmi, {"webhook-signature": header().split(",")[1]}, BODY, NOW)


# Public-key schemes: keys and certificates are made here with `cryptography`.
@pytest.fixture(scope="module")
def sendgrid_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def sendgrid_verification_key(key: ec.EllipticCurvePrivateKey) -> str:
    """As SendGrid shows it: the base64 of the public key's DER, without PEM armour."""
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def test_sendgrid_ecdsa(sendgrid_key: ec.EllipticCurvePrivateKey) -> None:
    sendgrid = config("sendgrid", webhook_secret_key=sendgrid_verification_key(sendgrid_key))
    stamp = str(int(NOW))
    sent = sendgrid_key.sign(stamp.encode() + BODY, ec.ECDSA(hashes.SHA256()))
    headers = {
        "x-twilio-email-event-webhook-signature": base64.b64encode(sent).decode(),
        "x-twilio-email-event-webhook-timestamp": stamp,
    }
    assert verify(sendgrid, headers, BODY, NOW)
    assert not verify(sendgrid, headers, BODY + b" ", NOW)
    later = {**headers, "x-twilio-email-event-webhook-timestamp": str(int(NOW) + 1)}
    assert not verify(sendgrid, later, BODY, NOW)  # the timestamp is signed
    other = sendgrid_verification_key(ec.generate_private_key(ec.SECP256R1()))
    assert not verify(config("sendgrid", webhook_secret_key=other), headers, BODY, NOW)
    for name in headers:
        assert not verify(sendgrid, {k: v for k, v in headers.items() if k != name}, BODY, NOW)
    garbled = {**headers, "x-twilio-email-event-webhook-signature": "not base64!"}
    assert not verify(sendgrid, garbled, BODY, NOW)
    pem = (
        sendgrid_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    assert verify(config("sendgrid", webhook_secret_key=pem), headers, BODY, NOW)
    with pytest.raises(InvalidVerification, match="SendGrid's verification key"):
        config("sendgrid", webhook_secret_key="a shared secret is not a public key")


# Amazon SNS: a certificate made here stands for SNS's; nothing is fetched.
SNS_CERT_URL = (
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000.pem"
)


@pytest.fixture(scope="module")
def sns_signer() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    start = datetime.fromtimestamp(NOW, UTC) - timedelta(days=1)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, certificate.public_bytes(serialization.Encoding.PEM).decode()


def sns_message(
    key: rsa.RSAPrivateKey, version: str = "2", drop: tuple[str, ...] = (), **fields: str
) -> dict[str, str]:
    message = {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:MyTopic",
        "Subject": "My First Message",
        "Message": "Hello world!",
        "Timestamp": "2026-11-18T12:00:00.000Z",
        "SignatureVersion": version,
        "SigningCertURL": SNS_CERT_URL,
        **fields,
    }
    for name in drop:
        del message[name]
    order = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    if message["Type"] != "Notification":
        order = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    text = "".join(f"{name}\n{message[name]}\n" for name in order if name in message)
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()  # noqa: S303 (SNS v1)
    signature = key.sign(text.encode(), padding.PKCS1v15(), algorithm)
    return {**message, "Signature": base64.b64encode(signature).decode()}


def sns_body(message: dict[str, str]) -> bytes:
    return json.dumps(message).encode()


def test_aws_sns_against_configured_certificates(sns_signer: tuple[rsa.RSAPrivateKey, str]) -> None:
    key, pem = sns_signer
    sns = config("aws_sns", signing_certificates=pem)
    headers = {"x-amz-sns-message-type": "Notification"}
    assert verify(sns, headers, sns_body(sns_message(key, "1")), NOW)
    assert verify(sns, headers, sns_body(sns_message(key, "2")), NOW)
    assert verify(sns, headers, sns_body(sns_message(key, drop=("Subject",))), NOW)
    confirm = sns_message(
        key,
        Type="SubscriptionConfirmation",
        Token="2336412f37",
        SubscribeURL="https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription",
        drop=("Subject",),
    )
    assert verify(
        sns, {"x-amz-sns-message-type": "SubscriptionConfirmation"}, sns_body(confirm), NOW
    )

    good = sns_message(key)
    assert not verify(sns, headers, sns_body({**good, "Message": "Hello mallory!"}), NOW)
    assert not verify(sns, headers, sns_body({**good, "Type": "UnsubscribeConfirmation"}), NOW)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert not verify(sns, headers, sns_body(sns_message(stranger)), NOW)  # not the configured
    for url in (
        "https://sns.us-east-1.amazonaws.com.evil.example/cert.pem",
        "https://evil.example/sns.us-east-1.amazonaws.com/cert.pem",
        "http://sns.us-east-1.amazonaws.com/cert.pem",
        "https://s3.amazonaws.com/cert.pem",
        "https://sns.us-east-1.amazonaws.com/cert.txt",
        "https://sns.us-east-1.amazonaws.com:8443/cert.pem",
    ):
        assert not verify(sns, headers, sns_body({**good, "SigningCertURL": url}), NOW)
    assert not verify(sns, headers, sns_body({**good, "Signature": ""}), NOW)
    assert not verify(sns, headers, sns_body({**good, "SignatureVersion": "3"}), NOW)
    assert not verify(
        sns, {"x-amz-sns-message-type": "SubscriptionConfirmation"}, sns_body(good), NOW
    )
    after_validity = NOW + 60 * 86400
    assert not verify(sns, headers, sns_body(good), after_validity)
    assert masked(sns) == sns  # certificates are public: nothing to mask


def test_aws_sns_topic_arns(sns_signer: tuple[rsa.RSAPrivateKey, str]) -> None:
    """SNS signs every topic's messages alike: only the listed topics are taken."""
    key, pem = sns_signer
    mine = "arn:aws:sns:us-east-1:123456789012:MyTopic"
    sns = config(
        "aws_sns", signing_certificates=pem, topic_arns=f"arn:aws:sns:eu-west-1:1:x, {mine}"
    )
    assert verify(sns, {}, sns_body(sns_message(key)), NOW)
    theirs = sns_message(key, TopicArn="arn:aws:sns:us-east-1:999999999999:Theirs")
    assert not verify(sns, {}, sns_body(theirs), NOW)
    assert verify(config("aws_sns", signing_certificates=pem), {}, sns_body(theirs), NOW)
    with pytest.raises(InvalidVerification, match="topic_arns"):
        check(
            {
                "type": "aws_sns",
                "configs": {"signing_certificates": pem, "topic_arns": ["not", "text"]},
            }
        )


def test_aws_sns_refuses_a_source_without_certificates() -> None:
    with pytest.raises(InvalidVerification, match="signing_certificates is required"):
        check({"type": "aws_sns", "configs": {}})  # Hookdeck's aws_sns has no configs
    with pytest.raises(InvalidVerification, match="PEM text"):
        config("aws_sns", signing_certificates="-----BEGIN CERTIFICATE-----\nnope")


@pytest.fixture(scope="module")
def wix_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def wix_jwt(key: rsa.RSAPrivateKey, claims: dict[str, Any], alg: str = "RS256") -> bytes:
    def part(value: bytes) -> bytes:
        return base64.urlsafe_b64encode(value).rstrip(b"=")

    head = part(json.dumps({"kid": "k1", "alg": alg}).encode())
    body = part(json.dumps(claims).encode())
    sent = key.sign(head + b"." + body, padding.PKCS1v15(), hashes.SHA256())
    return head + b"." + body + b"." + part(sent)


def test_wix_jwt_body(wix_key: rsa.RSAPrivateKey) -> None:
    pem = (
        wix_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    wix = config("wix", webhook_secret_key=pem)
    data = json.dumps({"eventType": "wix.ecom.v1.order_created", "instanceId": "i1"})
    claims = {"data": data, "iat": int(NOW), "exp": int(NOW) + 300_000}
    body = wix_jwt(wix_key, claims)
    assert verify(wix, {}, body, NOW)
    escaped = pem.replace("\n", "\\n")  # as the key is often stored in one line
    assert verify(config("wix", webhook_secret_key=escaped), {}, body, NOW)
    head, _, signature = body.split(b".")
    other_claims = wix_jwt(wix_key, {**claims, "data": "{}"}).split(b".")[1]
    assert not verify(wix, {}, b".".join((head, other_claims, signature)), NOW)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert not verify(wix, {}, wix_jwt(other, claims), NOW)
    assert not verify(wix, {}, wix_jwt(wix_key, {**claims, "exp": int(NOW) - 1}), NOW)
    assert not verify(wix, {}, wix_jwt(wix_key, claims, alg="none"), NOW)
    assert not verify(wix, {}, b"", NOW)  # no token at all
    with pytest.raises(InvalidVerification, match="public key"):
        config("wix", webhook_secret_key=SECRET)


@pytest.mark.parametrize("kind", ["three_d_eye", "repay"])
def test_types_without_a_published_scheme_are_refused_by_name(kind: str) -> None:
    with pytest.raises(InvalidVerification, match=f"'{kind}' is Hookdeck's"):
        check({"type": kind, "configs": {"webhook_secret_key": "k"}})


@pytest.mark.parametrize("kind", GROUP2)
def test_garbage_never_raises(
    kind: str,
    sendgrid_key: ec.EllipticCurvePrivateKey,
    wix_key: rsa.RSAPrivateKey,
    sns_signer: tuple[rsa.RSAPrivateKey, str],
) -> None:
    """Whatever arrives, verification answers True or False, never an exception (a 500)."""
    public_pem = wix_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    configs = {
        "sendgrid": {"webhook_secret_key": sendgrid_verification_key(sendgrid_key)},
        "wix": {"webhook_secret_key": public_pem.decode()},
        "aws_sns": {"signing_certificates": sns_signer[1]},
        "pipedrive": {"username": "u", "password": "p"},
    }.get(kind, {"webhook_secret_key": SECRET})
    verification = config(kind, **configs)
    junk = "t=,v1=,=,,\x00 garbage \u00e9"
    names = [
        "persona-signature",
        "workos-signature",
        "synctera-signature",
        "request-timestamp",
        "twitch-eventsub-message-id",
        "twitch-eventsub-message-timestamp",
        "twitch-eventsub-message-signature",
        "x-orb-timestamp",
        "x-orb-signature",
        "webhook-signature",
        "pylon-webhook-signature",
        "pylon-webhook-timestamp",
        "x-twilio-email-event-webhook-signature",
        "x-twilio-email-event-webhook-timestamp",
        "x-amz-sns-message-type",
        "authorization",
    ]
    junk_headers = {name: junk for name in names}
    bodies = [b"", b"\xff\xfe", b"[]", b'{"signature": []}', b"a.b.c", b"null", b'{"Type": 1}']
    for content_type in (
        "",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
    ):
        for body in bodies:
            headers = {**junk_headers, "content-type": content_type}
            assert verify(verification, headers, body, NOW, url=junk) is False


def signed_by_recipe(kind: str, secret: str, body: bytes) -> dict[str, str]:
    """The headers each header-signed scheme sends, made by its published recipe."""
    stamp = str(int(NOW))
    keyed = hmac.new(secret.encode(), digestmod=hashlib.sha256)
    if kind == "orb":
        keyed.update(b"v1:2026-11-18T12:00:00:" + body)
        return {
            "x-orb-timestamp": "2026-11-18T12:00:00",
            "x-orb-signature": f"v1={keyed.hexdigest()}",
        }
    if kind == "nmi":
        keyed.update(b"n0nce." + body)
        return {"webhook-signature": f"t=n0nce,s={keyed.hexdigest()}"}
    keyed.update(stamp.encode() + b"." + body)
    return {
        "persona": {"persona-signature": f"t={stamp},v1={keyed.hexdigest()}"},
        "synctera": {"synctera-signature": keyed.hexdigest(), "request-timestamp": stamp},
        "pylon": {
            "pylon-webhook-signature": f"hs256={keyed.hexdigest()}",
            "pylon-webhook-timestamp": stamp,
        },
    }[kind]


@given(
    kind=st.sampled_from(["persona", "synctera", "pylon", "nmi", "orb"]),
    secret=st.text(min_size=1, max_size=40),
    body=st.binary(max_size=2000),
    other=st.binary(max_size=2000),
)
def test_header_schemes_accept_exactly_their_own_signature(
    kind: str, secret: str, body: bytes, other: bytes
) -> None:
    now = NOW if kind != "orb" else datetime(2026, 11, 18, 12, tzinfo=UTC).timestamp()
    verification = config(kind, webhook_secret_key=secret)
    headers = signed_by_recipe(kind, secret, body)
    assert verify(verification, headers, body, now)
    assert verify(verification, headers, other, now) == (other == body)
