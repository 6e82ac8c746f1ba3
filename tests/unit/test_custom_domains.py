"""What a custom domain's host name may be, how ingest reads a ``Host`` header, and how
the configuration keeps custom domains: one project per host name, the first claim in
the log winning, each project's domains the first created first."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookhouse.common.domain.admission import of_host
from hookhouse.common.domain.config import ConfigState, record_key
from hookhouse.common.domain.custom_domains import (
    InvalidHostname,
    checked_hostname,
    host_of,
    public_base,
)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("hooks.example.com", "hooks.example.com"),
        ("Hooks.Example.COM", "hooks.example.com"),
        ("hooks.example.com.", "hooks.example.com"),  # the absolute form
        ("a-1.b2.example", "a-1.b2.example"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("\uff28\uff2f\uff2f\uff2b\uff33.example.com", "hooks.example.com"),  # full-width
        (f"{'a' * 63}.example.com", f"{'a' * 63}.example.com"),
    ],
)
def test_a_host_name_is_stored_lower_case_in_ascii(given: str, stored: str) -> None:
    assert checked_hostname(given) == stored


@pytest.mark.parametrize(
    ("given", "says"),
    [
        (None, "required"),
        ("", "required"),
        (42, "required"),
        ("localhost", "localhost"),
        ("api.localhost", "localhost"),
        ("example", "two labels"),
        ("1.2.3.4", "IP address"),
        ("[::1]", "IP address"),
        ("::ffff:127.0.0.1", "IP address"),
        ("127.1", "all digits"),
        ("hooks.example.com:443", "port"),
        ("https://hooks.example.com", "scheme"),
        ("hooks.example.com/e", "path"),
        ("*.example.com", "Wildcard"),
        ("a..example.com", "Empty Label"),
        (".example.com", "Empty Label"),
        ("-a.example.com", "hyphen"),
        ("a_b.example.com", "not a valid host name".capitalize()),
        ("a b.example.com", "Not a valid"),
        (f"{'a' * 64}.example.com", "Label too long"),
        ("xn--zz.example", "Not a valid"),
        ("a" * 254, "at most 253"),
    ],
)
def test_what_is_not_a_host_name_is_refused_saying_why(given: object, says: str) -> None:
    with pytest.raises(InvalidHostname, match=says):
        checked_hostname(given)


def test_the_ingest_host_itself_cannot_be_claimed() -> None:
    with pytest.raises(InvalidHostname, match="own ingest host"):
        checked_hostname("Hooks.Operator.example", {"hooks.operator.example"})


@given(st.text(max_size=300))
def test_any_text_is_a_host_name_or_refused_and_a_host_name_checks_as_itself(text: str) -> None:
    try:
        stored = checked_hostname(text)
    except InvalidHostname:
        return
    assert stored.isascii() and stored == stored.lower() and len(stored) <= 253
    assert checked_hostname(stored) == stored


@pytest.mark.parametrize(
    ("header", "host"),
    [
        ("Hooks.Example.com:8443", "hooks.example.com"),
        ("hooks.example.com.", "hooks.example.com"),
        ("[::1]:7700", "[::1]"),
        ("", ""),
        (None, ""),
    ],
)
def test_ingest_reads_the_host_header_as_domains_are_stored(header: str | None, host: str) -> None:
    assert host_of(header) == host


def domain(domain_id: str, project_id: str, hostname: str, created_at: str) -> dict[str, str]:
    return {
        "id": domain_id,
        "project_id": project_id,
        "hostname": hostname,
        "created_at": created_at,
        "updated_at": created_at,
    }


def apply(state: ConfigState, resource: dict[str, str] | None, key: str = "") -> bool:
    value = None if resource is None else orjson.dumps(resource)
    return state.apply(record_key("custom_domain", key or (resource or {})["id"]), value)


def test_a_host_name_belongs_to_the_first_project_that_claimed_it_until_deleted() -> None:
    state = ConfigState()
    first = domain("dom_1", "tm_a", "hooks.example.com", "2026-12-06T00:00:00.000Z")
    assert apply(state, first)
    assert not apply(state, domain("dom_2", "tm_b", "hooks.example.com", "2026-12-06T00:00:01Z"))
    assert state.custom_domain("hooks.example.com") == first
    assert state.custom_domains("tm_b") == []
    assert apply(state, None, "dom_1")
    assert state.custom_domain("hooks.example.com") is None
    assert state.custom_domains("tm_a") == []
    assert apply(state, domain("dom_2", "tm_b", "hooks.example.com", "2026-12-06T00:00:01Z"))


def test_a_projects_domains_are_listed_the_first_created_first() -> None:
    state = ConfigState()
    later = domain("dom_1", "tm_a", "b.example.com", "2026-12-06T00:00:02.000Z")
    earlier = domain("dom_2", "tm_a", "a.example.com", "2026-12-06T00:00:01.000Z")
    apply(state, later)
    apply(state, earlier)
    apply(state, domain("dom_3", "tm_b", "c.example.com", "2026-12-06T00:00:00.000Z"))
    assert [d["id"] for d in state.custom_domains("tm_a")] == ["dom_2", "dom_1"]
    assert public_base(state.custom_domains("tm_a"), "http://x:1") == "https://a.example.com"
    assert public_base(state.custom_domains("tm_c"), "http://x:1") == "http://x:1"


def test_a_custom_domain_takes_requests_for_its_own_projects_sources_only() -> None:
    mine = domain("dom_1", "tm_a", "hooks.example.com", "2026-12-06T00:00:00.000Z")
    assert of_host(mine, {"id": "src_1", "project_id": "tm_a"}) is None
    assert of_host(None, {"id": "src_2", "project_id": "tm_b"}) is None  # any other host
    refusal = of_host(mine, {"id": "src_2", "project_id": "tm_b"})
    assert refusal is not None
    assert (refusal.status, refusal.code, refusal.recorded_cause) == (
        404,
        "SOURCE_NOT_ON_HOST",
        "UNKNOWN",
    )
