"""Signatures checked by independent implementations; auth headers; the SSRF guard."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook

from hookhouse.common.domain.destination_auth import InvalidAuthConfig, credentials
from hookhouse.common.domain.ratelimit import ConcurrencyLimit, RateLimiter
from hookhouse.common.domain.signing import (
    InvalidSigningConfig,
    custom_signature,
    hookdeck_signature,
    standard_webhooks_headers,
)
from hookhouse.common.domain.ssrf import is_blocked, parse_networks

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


@given(st.binary(max_size=2000).filter(lambda b: _is_utf8(b)))
def test_standard_webhooks_signature_verifies_with_the_reference_package(body: bytes) -> None:
    now = int(time.time())
    headers = standard_webhooks_headers(SECRET, "evt_1", now, body)
    Webhook(SECRET).verify(body, headers, json_parse=False)  # raises if wrong


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


def test_standard_webhooks_refuses_a_bad_secret() -> None:
    with pytest.raises(InvalidSigningConfig):
        standard_webhooks_headers("whsec_!!!", "evt_1", 0, b"")


def test_hookdeck_and_custom_signatures() -> None:
    body = b'{"a":1}'
    expected = base64.b64encode(hmac.new(b"s3cret", body, hashlib.sha256).digest()).decode()
    assert hookdeck_signature("s3cret", body) == expected
    assert (
        custom_signature("k", body, "sha512", "hex")
        == hmac.new(b"k", body, hashlib.sha512).hexdigest()
    )
    assert "=" not in custom_signature("k", body, "sha1", "base64url")
    with pytest.raises(InvalidSigningConfig):
        custom_signature("k", body, "md5", "hex")


def test_auth_methods() -> None:
    basic = credentials(
        {"type": "BASIC_AUTH", "config": {"username": "u", "password": "p"}},
        b"",
        event_id="e",
        timestamp=0,
        project_secret="",
        header_prefix="x-",
    )
    assert basic.headers["authorization"] == "Basic " + base64.b64encode(b"u:p").decode()
    query = credentials(
        {"type": "API_KEY", "config": {"key": "k", "api_key": "v", "to": "query"}},
        b"",
        event_id="e",
        timestamp=0,
        project_secret="",
        header_prefix="x-",
    )
    assert query.query == {"k": "v"} and not query.headers
    bearer = credentials(
        {"type": "OAUTH2_CLIENT_CREDENTIALS", "config": {}},
        b"",
        event_id="e",
        timestamp=0,
        project_secret="",
        header_prefix="x-",
        oauth_token="tok",
    )
    assert bearer.headers["authorization"] == "Bearer tok"
    signed = credentials(
        {"type": "HOOKDECK_SIGNATURE"},
        b"{}",
        event_id="e",
        timestamp=0,
        project_secret="p",
        header_prefix="x-hookdeck-",
    )
    assert signed.headers["x-hookdeck-signature"] == hookdeck_signature("p", b"{}")
    bad_methods: list[dict[str, Any]] = [
        {"type": "NOPE"},
        {"type": "BEARER_TOKEN", "config": {}},
        {"type": "OAUTH2_CLIENT_CREDENTIALS", "config": {}},
    ]
    for bad in bad_methods:
        with pytest.raises(InvalidAuthConfig):
            credentials(bad, b"", event_id="e", timestamp=0, project_secret="", header_prefix="x-")


def test_ssrf_guard() -> None:
    none = parse_networks("")
    for address in [
        "127.0.0.1",
        "10.1.2.3",
        "192.168.0.1",
        "172.16.0.1",
        "169.254.169.254",
        "::1",
        "fd00::1",
        "0.0.0.0",
        "100.64.0.1",
        "::ffff:127.0.0.1",
        "224.0.0.1",
    ]:
        assert is_blocked(address, none), address
    for address in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"]:
        assert not is_blocked(address, none), address
    loopback = parse_networks("127.0.0.0/8, ::1/128")
    assert not is_blocked("127.0.0.1", loopback) and not is_blocked("::1", loopback)
    assert is_blocked("10.0.0.1", loopback)
    with pytest.raises(ValueError, match="not a network"):
        parse_networks("localhost")


def test_rate_limiter_spaces_starts_evenly() -> None:
    limiter = RateLimiter(limit=10, period_seconds=1.0)
    starts: list[float] = []
    now = 0.0
    while len(starts) < 30:
        wait = limiter.reserve(now, max_wait=0.35)
        if wait is None:
            now += 0.05  # too far away: come back later
            continue
        starts.append(now + wait)
        now += 0.01
    for window_start in starts:
        in_window = [s for s in starts if window_start <= s < window_start + 1.0 - 1e-6]
        assert len(in_window) <= 10


def test_rate_limiter_takes_nothing_beyond_max_wait() -> None:
    limiter = RateLimiter(limit=1, period_seconds=10.0)
    assert limiter.reserve(0.0, max_wait=1.0) == 0.0
    assert limiter.reserve(0.0, max_wait=1.0) is None
    assert limiter.reserve(0.0, max_wait=20.0) == 10.0
    assert limiter.reserve(0.0, max_wait=20.0) == 20.0


def test_concurrency_limit() -> None:
    limit = ConcurrencyLimit(2)
    assert limit.try_acquire() and limit.try_acquire() and not limit.try_acquire()
    limit.release()
    assert limit.try_acquire()
