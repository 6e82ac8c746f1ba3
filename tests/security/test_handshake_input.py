"""What an attacker can send to the handshakes ingest answers (docs/connections.md,
"Handshakes"): the unsigned ones are reachable by anyone who knows a source's URL, so
their answers must never be usable as a signature, and no body or query may raise."""

from __future__ import annotations

import base64
import hashlib
import hmac

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookhouse.common.domain.verification import Signed, challenge, reply, verify
from tests.unit.test_provider_handshakes import NOW, SECRET, URL, config, get


def b64_hmac(secret: str, text: str) -> str:
    return base64.b64encode(
        hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
    ).decode()


@pytest.mark.parametrize(
    "url",
    [
        URL,  # no token
        f"{URL}?crc_token=",  # empty
        f"{URL}?crc_token=a&crc_token=b",  # repeated
        f"{URL}?crc_token=" + "a" * 256,  # too long
        f"{URL}?crc_token=%7B%22a%22%3A1%7D",  # {"a":1}: a JSON object would sign a body
        f"{URL}?crc_token=a%20b",  # outside the token's characters
        f"{URL}?" + "&".join(f"f{i}=1" for i in range(65)) + "&crc_token=abc",  # 66 fields
    ],
)
def test_x_crc_answers_only_a_well_formed_token(url: str) -> None:
    assert challenge(config("twitter", api_key=SECRET), get(url)) is None


def test_a_crc_answer_can_never_sign_a_body_that_verifies() -> None:
    """The CRC answer is the HMAC of the caller's token under the key that signs bodies;
    a signed body must be a JSON object, which no token can be."""
    twitter = config("twitter", api_key=SECRET)
    answer = challenge(twitter, get(f"{URL}?crc_token=1234"))
    assert answer is not None
    signature = orjson.loads(answer.body)["response_token"]
    header = {"x-twitter-webhooks-signature": signature}
    assert not verify(twitter, header, b"1234", NOW)


@given(token=st.from_regex(r"[A-Za-z0-9_\-=+/.]{1,255}", fullmatch=True))
def test_no_token_is_a_body_x_would_sign(token: str) -> None:
    twitter = config("twitter", api_key=SECRET)
    signature = "sha256=" + b64_hmac(SECRET, token)
    assert not verify(twitter, {"x-twitter-webhooks-signature": signature}, token.encode(), NOW)


@given(body=st.binary(max_size=300))
def test_any_body_gets_an_answer_or_none_never_an_error(body: bytes) -> None:
    signed = Signed({"twitch-eventsub-message-type": "webhook_callback_verification"}, body, NOW)
    for kind, configs in [
        ("slack", {"webhook_secret_key": SECRET}),
        ("zoom", {"webhook_secret_key": SECRET}),
        ("discord", {"public_key": "ab" * 32}),
        ("twitch", {"webhook_secret_key": SECRET}),
    ]:
        reply(config(kind, **configs), signed)


def test_bodies_nested_past_what_orjson_reads_get_no_answer() -> None:
    deep = b"[" * 5000 + b"]" * 5000
    nested_object = b'{"type": 1, "a": ' + deep + b"}"
    for kind, configs in [
        ("slack", {"webhook_secret_key": SECRET}),
        ("discord", {"public_key": "ab" * 32}),
    ]:
        assert reply(config(kind, **configs), Signed({}, nested_object, NOW)) is None


def test_a_challenge_for_another_method_or_a_huge_query_is_no_handshake() -> None:
    twitter = config("twitter", api_key=SECRET)
    assert challenge(twitter, Signed({}, b"", NOW, f"{URL}?crc_token=abc", "POST")) is None
    assert challenge(twitter, get(f"{URL}?crc_token=abc&" + "x=1&" * 10_000)) is None
