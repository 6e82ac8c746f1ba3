"""Ingest's admission checks, in Hookdeck's order, without a server."""

from __future__ import annotations

import pytest

from hookhouse.common.domain.admission import allowed_types, before_body, of_body, type_allowed
from hookhouse.common.settings import Settings

DEFAULT = allowed_types(Settings().ingest_content_types)


@pytest.mark.parametrize(
    ("content_type", "taken"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("Application/JSON", True),
        ("application/vnd.api+json", True),
        ("application/x-www-form-urlencoded", True),
        ("application/xml", True),
        ("text/plain", True),
        ("text/xml; charset=utf-8", True),
        (None, True),
        ("multipart/form-data; boundary=x", False),
        ("application/octet-stream", False),
        ("image/png", False),
    ],
)
def test_content_types(content_type: str | None, taken: bool) -> None:
    refusal = before_body({}, "POST", content_type, DEFAULT)
    assert (refusal is None) == taken
    if refusal is not None:
        assert (refusal.status, refusal.code) == (415, "UNSUPPORTED_CONTENT_TYPE")


def test_disabled_comes_before_method_and_method_before_type() -> None:
    source = {"disabled_at": "2026-01-01T00:00:00.000Z", "allowed_http_methods": ["POST"]}
    assert before_body(source, "GET", "image/png", DEFAULT).code == "SOURCE_DISABLED"  # type: ignore[union-attr]
    source.pop("disabled_at")
    refusal = before_body(source, "GET", "image/png", DEFAULT)
    assert refusal is not None and (refusal.status, refusal.code) == (
        405,
        "UNSUPPORTED_HTTP_METHOD",
    )
    assert "POST" in refusal.message
    assert before_body(source, "POST", "application/json", DEFAULT) is None


def test_a_source_without_a_method_list_takes_the_webhook_methods_only() -> None:
    # HEAD is answered before admission and never stored (tests/security).
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        assert before_body({}, method, None, DEFAULT) is None
    refusal = before_body({}, "OPTIONS", None, DEFAULT)
    assert refusal is not None and (refusal.status, refusal.code) == (
        405,
        "UNSUPPORTED_HTTP_METHOD",
    )


def test_json_bodies_must_parse_only_when_they_say_they_are_json() -> None:
    assert of_body("application/json", b'{"a": 1}') is None
    assert of_body("application/json", b"") is None
    refusal = of_body("application/json", b"{nope")
    assert refusal is not None and (refusal.status, refusal.code) == (400, "UNPARSABLE_JSON")
    assert of_body("text/plain", b"{nope") is None


def test_family_and_suffix_patterns() -> None:
    assert type_allowed("text/csv", ("text/*",))
    assert not type_allowed("application/csv", ("text/*",))
    assert type_allowed("application/cloudevents+json", ("application/*+json",))
    assert not type_allowed("application/json5", ("application/*+json",))
