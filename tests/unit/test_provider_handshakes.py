"""The handshakes providers send to check a URL, answered from the source's config:
each answer as the provider's documentation computes it, and nothing answered for a
request that is not the handshake."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hookhouse.common.domain.verification import Signed, challenge, check, reply

NOW = 1_795_000_000.0
SECRET = "s3cr3t"
URL = "https://hooks.example.com/e/src_1"


def config(kind: str, **configs: str) -> dict[str, Any]:
    checked = check({"type": kind, "configs": configs})
    assert checked is not None
    return checked


def get(url: str) -> Signed:
    return Signed({}, b"", NOW, url, "GET")


def posted(body: Any, **headers: str) -> Signed:
    return Signed(headers, orjson.dumps(body), NOW, URL, "POST")


def hmac_of(secret: str, text: str, encode: Any = bytes.hex) -> str:
    return str(encode(hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()))


def test_x_crc_gets_the_response_token_x_computes() -> None:
    twitter = config("twitter", api_key=SECRET)
    answer = challenge(twitter, get(f"{URL}?crc_token=abc123"))
    assert answer is not None
    expected = "sha256=" + hmac_of(SECRET, "abc123", lambda d: base64.b64encode(d).decode())
    assert orjson.loads(answer.body) == {"response_token": expected}
    assert answer.media_type == "application/json"


def test_ebay_challenge_code_gets_ebays_challenge_response() -> None:
    ebay = config("ebay", public_key=EC_PEM, verification_token="tok-123")
    answer = challenge(ebay, get(f"{URL}?challenge_code=c0de"))
    assert answer is not None
    expected = hashlib.sha256(f"c0detok-123{URL}".encode()).hexdigest()
    assert orjson.loads(answer.body) == {"challengeResponse": expected}


def test_ebay_without_a_verification_token_answers_no_challenge() -> None:
    ebay = config("ebay", public_key=EC_PEM)
    assert challenge(ebay, get(f"{URL}?challenge_code=c0de")) is None
    assert challenge(config("ebay", public_key=EC_PEM, verification_token="t"), get(URL)) is None


def test_slack_url_verification_echoes_the_challenge() -> None:
    slack = config("slack", webhook_secret_key=SECRET)
    event = {"token": "x", "challenge": "3eZbrw1aB", "type": "url_verification"}
    answer = reply(slack, posted(event))
    assert answer is not None and orjson.loads(answer.body) == {"challenge": "3eZbrw1aB"}
    assert reply(slack, posted({"type": "event_callback", "challenge": "x"})) is None
    assert reply(slack, posted({"type": "url_verification", "challenge": "x" * 1025})) is None


def test_zoom_url_validation_answers_the_encrypted_token() -> None:
    zoom = config("zoom", webhook_secret_key=SECRET)
    event = {"event": "endpoint.url_validation", "payload": {"plainToken": "qgg8vlvZ"}}
    answer = reply(zoom, posted(event))
    assert answer is not None
    assert orjson.loads(answer.body) == {
        "plainToken": "qgg8vlvZ",
        "encryptedToken": hmac_of(SECRET, "qgg8vlvZ"),
    }
    assert reply(zoom, posted({"event": "meeting.started", "payload": {"plainToken": "a"}})) is None
    assert reply(zoom, posted({"event": "endpoint.url_validation", "payload": "a"})) is None


def test_discord_ping_gets_a_pong() -> None:
    discord = config("discord", public_key="ab" * 32)
    answer = reply(discord, posted({"type": 1, "id": "1"}))
    assert answer is not None and orjson.loads(answer.body) == {"type": 1}
    assert reply(discord, posted({"type": 2})) is None


def test_twitch_callback_verification_echoes_the_challenge_as_text() -> None:
    twitch = config("twitch", webhook_secret_key=SECRET)
    kind = {"twitch-eventsub-message-type": "webhook_callback_verification"}
    answer = reply(twitch, posted({"challenge": "pogchamp-kappa-360noscope-vohiyo"}, **kind))
    assert answer is not None
    assert (answer.body, answer.media_type) == (b"pogchamp-kappa-360noscope-vohiyo", "text/plain")
    notification = {"twitch-eventsub-message-type": "notification"}
    assert reply(twitch, posted({"challenge": "x"}, **notification)) is None


EC_PEM = (
    ec.generate_private_key(ec.SECP256R1())
    .public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)
