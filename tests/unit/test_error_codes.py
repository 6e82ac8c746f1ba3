"""Attempt error codes: every stored code answers as one of Hookdeck's, filters accept
both names, and OpenSSL's verify codes become Hookdeck's TLS codes."""

from __future__ import annotations

import pytest
from starlette.datastructures import QueryParams

from hookhouse.api import queries, shapes
from hookhouse.api.pages import InvalidQuery
from hookhouse.common.domain.error_codes import (
    HOOKDECK_CODES,
    OWN_CODES,
    TLS_VERIFY_CODES,
    UnknownErrorCode,
    hookdeck_code,
    stored_codes,
    tls_error_code,
)
from hookhouse.common.domain.retry import RetryPolicy

# Every code the deliverer and the API store (push.py, outcome.py, the event's cancel).
STORED = [
    "BAD_RESPONSE",
    "SSRF_BLOCKED",
    "SSL_ERROR",
    "AUTH_CONFIG_INVALID",
    "TIMEOUT",
    "DNS_LOOKUP_FAILED",
    "CONNECTION_REFUSED",
    "CONNECTION_RESET",
    "OAUTH2_HANDSHAKE_FAILED",
    "UNKNOWN",
    "CANCELLED",
    "MISSING_URL",
    *TLS_VERIFY_CODES.values(),
    "ERR_SSL_WRONG_VERSION_NUMBER",
]


@pytest.mark.parametrize("code", STORED)
def test_every_stored_code_answers_as_one_of_hookdeck_s_or_none(code: str) -> None:
    answered = hookdeck_code(code)
    assert answered is None or answered in HOOKDECK_CODES
    assert code in stored_codes(answered or code)  # a filter on the answer finds it


def test_own_codes_answer_as_the_closest_of_hookdeck_s() -> None:
    assert hookdeck_code("BAD_RESPONSE") is None  # told by response_status alone
    assert hookdeck_code("SSRF_BLOCKED") == "HOST_UNREACHABLE"
    assert hookdeck_code("SSL_ERROR") == "UNKNOWN"
    assert hookdeck_code("AUTH_CONFIG_INVALID") == "UNKNOWN"
    assert hookdeck_code("") is None
    assert hookdeck_code("SOMETHING_NEWER") == "UNKNOWN"
    assert all(hookdeck_code(code) == code for code in HOOKDECK_CODES)


def test_an_answer_carries_both_codes() -> None:
    assert shapes.error_codes("SSRF_BLOCKED") == {
        "error_code": "HOST_UNREACHABLE",
        "error_detail": "SSRF_BLOCKED",
    }
    bad = {"error_code": None, "error_detail": "BAD_RESPONSE"}
    assert shapes.error_codes("BAD_RESPONSE") == bad
    assert shapes.error_codes("TIMEOUT") == {"error_code": "TIMEOUT", "error_detail": "TIMEOUT"}
    assert shapes.error_codes("") == {"error_code": None, "error_detail": None}


def test_a_filter_on_hookdeck_s_name_matches_hookhouse_s_codes_answered_as_it() -> None:
    assert stored_codes("HOST_UNREACHABLE") == ["HOST_UNREACHABLE", "SSRF_BLOCKED"]
    assert stored_codes("UNKNOWN") == ["UNKNOWN", "SSL_ERROR", "AUTH_CONFIG_INVALID"]
    assert stored_codes("TIMEOUT") == ["TIMEOUT"]
    assert all(stored_codes(own) == [own] for own in OWN_CODES)
    with pytest.raises(UnknownErrorCode, match="'NOPE' is not an attempt error code"):
        stored_codes("NOPE")


def test_list_filters_expand_error_codes_and_refuse_unknown_ones() -> None:
    events = queries.TABLES["events"]
    sql = queries.conditions(events, "tm_a", QueryParams("error_code=HOST_UNREACHABLE"))
    assert sql.where[1] == "error_code IN {p1:Array(String)}"
    assert sql.parameters["p1"] == ["HOST_UNREACHABLE", "SSRF_BLOCKED"]
    both = QueryParams([("error_code", "BAD_RESPONSE"), ("error_code", "TIMEOUT")])
    assert queries.conditions(events, "tm_a", both).parameters["p1"] == ["BAD_RESPONSE", "TIMEOUT"]
    with pytest.raises(InvalidQuery, match="'error_code': 'ssl_error' is not"):
        queries.conditions(queries.TABLES["attempts"], "tm_a", QueryParams("error_code=ssl_error"))


@pytest.mark.parametrize(
    ("verify_code", "reason", "code"),
    [
        (18, "CERTIFICATE_VERIFY_FAILED", "SELF_SIGNED_CERT"),
        (19, "CERTIFICATE_VERIFY_FAILED", "SELF_SIGNED_CERT"),
        (10, "CERTIFICATE_VERIFY_FAILED", "SSL_CERT_EXPIRED"),
        (62, "CERTIFICATE_VERIFY_FAILED", "ERR_TLS_CERT_ALTNAME_INVALID"),
        (64, "CERTIFICATE_VERIFY_FAILED", "ERR_TLS_CERT_ALTNAME_INVALID"),
        (20, "CERTIFICATE_VERIFY_FAILED", "SSL_ERROR_CA_UNKNOWN"),
        (None, "WRONG_VERSION_NUMBER", "ERR_SSL_WRONG_VERSION_NUMBER"),
        (9, "CERTIFICATE_VERIFY_FAILED", "SSL_ERROR"),  # not yet valid: Hookdeck has no name
        (None, "SSLV3_ALERT_HANDSHAKE_FAILURE", "SSL_ERROR"),
        (None, None, "SSL_ERROR"),
    ],
)
def test_openssl_s_verdicts_become_hookdeck_s_tls_codes(
    verify_code: int | None, reason: str | None, code: str
) -> None:
    assert tls_error_code(verify_code, reason) == code


def test_retry_decisions_read_the_precise_codes() -> None:
    policy = RetryPolicy(count=3)
    assert not policy.should_retry(1, None, "SSRF_BLOCKED")  # never, as before
    assert policy.should_retry(1, None, "HOST_UNREACHABLE")
    assert policy.should_retry(1, None, "SELF_SIGNED_CERT")  # TLS failures retry as before
