"""Whatever a provider's impostor sends — odd digits in a timestamp, huge or non-UTF-8
headers and bodies, deeply nested JSON, a signature of the wrong length — every
verification type answers true or false: an exception would be a 500 from ingest, and
nothing it is sent may be accepted without a secret."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hookhouse.common.domain.providers import PROVIDERS
from hookhouse.common.domain.verification import InvalidVerification, check, verify

NOW = 1_796_515_200.0


def configured() -> list[dict[str, Any]]:
    """Each type with every required config set to a plain secret; types whose configs
    must be keys or certificates are covered with real keys in the unit tests."""
    made = []
    for kind, provider in sorted(PROVIDERS.items()):
        try:
            checked = check({"type": kind, "configs": dict.fromkeys(provider.required, "k3y")})
        except InvalidVerification:
            continue
        assert checked is not None
        made.append(checked)
    return made


CONFIGURED = configured()
HOSTILE_TEXT = st.one_of(
    st.text(max_size=50),
    st.just("t=²,v1=" + "0" * 64),
    st.just("t=" + "9" * 5000 + ",v1=00"),
    st.just("sha256=" + "A" * 100_000),
    st.just("ts=;h1=;t=,,v0=,,"),
)
HOSTILE_BODY = st.one_of(
    st.binary(max_size=200),
    st.just(b"\xff\xfe\x00garbage"),
    st.just(b"[" * 10_000 + b"]" * 10_000),
    st.just(b'{"signature": {"timestamp": "\xd9\xa3", "token": null}}'),
    st.just(b"a=" + b"%" * 1000),
)


def test_most_types_are_covered_here() -> None:
    assert len(CONFIGURED) >= 40


@pytest.mark.parametrize("verification", CONFIGURED, ids=lambda v: v["type"])
@settings(max_examples=25, deadline=None)
@given(
    names=st.lists(st.text(min_size=1, max_size=40).map(str.lower), max_size=5),
    value=HOSTILE_TEXT,
    body=HOSTILE_BODY,
    url=st.sampled_from(["", "http://h/e/src_1?a=1&a=2", "http://h/" + "%" * 500]),
    method=st.sampled_from(["POST", "GET", "HEAD", "X"]),
)
def test_hostile_requests_get_false_never_an_error(
    verification: dict[str, Any], names: list[str], value: str, body: bytes, url: str, method: str
) -> None:
    headers = dict.fromkeys(names, value)
    assert verify(verification, headers, body, NOW, url, method) in (True, False)


@pytest.mark.parametrize("verification", CONFIGURED, ids=lambda v: v["type"])
def test_a_body_nested_past_any_parser_s_depth_is_refused_not_raised(
    verification: dict[str, Any],
) -> None:
    deep = b'{"signature": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    headers = {"content-type": "application/json", "x-signature": "00"}
    assert verify(verification, headers, deep, NOW, "http://h/e/src_1", "POST") is False
