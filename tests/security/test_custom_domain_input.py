"""What an attacker would send to custom domains: host names that are huge, Unicode,
broken punycode, IPs, ports, paths, wildcards, of the wrong type or nested; another
project's domain ids; more domains than a project may have; and ``Host`` headers ingest
cannot match.  Every refusal is a 4xx in the error shape and leaves nothing stored."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from hookhouse.common.domain.custom_domains import MAX_PER_PROJECT
from tests.api_client import Tenants, ok, refused
from tests.integration.test_api import wait_until

pytestmark = pytest.mark.integration

PATH = "/teams/current/custom_domains"

HOSTILE_HOSTNAMES: list[Any] = [
    "a" * 254,
    "a" * 500_000,
    f"{'a' * 64}.example.com",
    ".".join(["a" * 63] * 5),  # 319 characters
    "xn--zz.example.com",  # not punycode
    "xn--.example.com",
    "ex\u0000ample.com",
    "ex\u200dample.com",  # a zero-width joiner
    "\U0001f600.example.com",
    "127.0.0.1",
    "2130706433",
    "127.1",
    "0x7f.0.0.1",
    "[::1]",
    "::ffff:10.0.0.1",
    "hooks.example.com:443",
    "hooks.example.com:",
    "https://hooks.example.com",
    "hooks.example.com/e/src_x",
    "hooks..example.com",
    "..",
    "../../etc/passwd",
    ".",
    "*.example.com",
    "*",
    "localhost",
    "hooks.localhost",
    "example",
    " hooks.example.com",
    "hooks.example.com\n",
    "",
    None,
    42,
    True,
    ["hooks.example.com"],
    {"hostname": "hooks.example.com"},
    {"a": {"b": {"c": "d"}}},
]


@pytest.mark.parametrize("hostname", HOSTILE_HOSTNAMES, ids=lambda h: repr(h)[:40])
def test_a_hostile_hostname_is_refused_and_nothing_is_stored(
    tenants: Tenants, hostname: Any
) -> None:
    answer = tenants.a.post(PATH, json={"hostname": hostname})
    message = refused(answer, 422, "UNPROCESSABLE_ENTITY")
    assert len(message) < 1000  # a huge name is not echoed back
    assert ok(tenants.a.get(PATH)) == []


@pytest.mark.parametrize("body", [b"", b"[]", b'"hooks.example.com"', b"{", b"[" * 100_000, b"{}"])
def test_a_body_that_is_not_an_object_with_a_hostname_is_refused(
    tenants: Tenants, body: bytes
) -> None:
    answer = tenants.a.post(PATH, content=body, headers={"content-type": "application/json"})
    assert answer.status_code in (400, 422), answer.text
    assert answer.json()["code"] in ("INVALID_JSON", "UNPROCESSABLE_ENTITY")
    assert ok(tenants.a.get(PATH)) == []


def test_a_unicode_name_is_stored_as_its_a_label_and_its_twin_is_taken(tenants: Tenants) -> None:
    tag = uuid.uuid4().hex[:6]
    made = ok(tenants.a.post(PATH, json={"hostname": f"bücher-{tag}.example"}))
    assert made["hostname"].startswith("xn--") and made["hostname"].isascii()
    refused(tenants.b.post(PATH, json={"hostname": made["hostname"]}), 422, "HOSTNAME_TAKEN")
    refused(
        tenants.b.post(PATH, json={"hostname": f"BÜCHER-{tag}.example."}), 422, "HOSTNAME_TAKEN"
    )
    ok(tenants.a.delete(f"{PATH}/{made['id']}"))


@pytest.mark.parametrize(
    "domain_id", ["dom_nope", "..", "..%2F..%2Fsources", "%00", "a" * 5000, "src_x"]
)
def test_an_id_that_is_not_the_projects_domain_is_not_found(
    tenants: Tenants, domain_id: str
) -> None:
    refused(tenants.a.delete(f"{PATH}/{domain_id}"), 404, "NOT_FOUND")


def test_another_projects_domain_cannot_be_deleted_or_seen(tenants: Tenants) -> None:
    theirs = ok(tenants.b.post(PATH, json={"hostname": f"b-{uuid.uuid4().hex[:6]}.example.com"}))
    refused(tenants.a.delete(f"{PATH}/{theirs['id']}"), 404, "NOT_FOUND")
    assert theirs not in ok(tenants.a.get(PATH))
    assert theirs in ok(tenants.b.get(PATH))
    ok(tenants.b.delete(f"{PATH}/{theirs['id']}"))


def test_a_project_has_at_most_its_limit_of_domains(tenants: Tenants) -> None:
    tag = uuid.uuid4().hex[:6]
    made = [
        ok(tenants.b.post(PATH, json={"hostname": f"n{n}-{tag}.example.com"}))
        for n in range(MAX_PER_PROJECT)
    ]
    assert len(ok(tenants.b.get(PATH))) == MAX_PER_PROJECT  # at the limit
    refused(
        tenants.b.post(PATH, json={"hostname": f"past-{tag}.example.com"}),
        422,
        "CUSTOM_DOMAIN_LIMIT",
    )
    ok(tenants.a.post(PATH, json={"hostname": f"a-{tag}.example.com"}))  # per project
    ok(tenants.b.delete(f"{PATH}/{made[0]['id']}"))
    ok(tenants.b.post(PATH, json={"hostname": f"past-{tag}.example.com"}))


HOSTILE_HOSTS = [
    b"",
    b"a" * 8000,
    b"[::1",
    b"[::1]:99999",
    b":::::",
    b"..",
    b"h\xc3\xb6oks.example.com",  # UTF-8 bytes, read as Latin-1
    b"hooks.example.com:notaport",
    b"xn--zz.example.com",
]


@pytest.mark.parametrize("host", HOSTILE_HOSTS, ids=lambda h: repr(h)[:30])
def test_a_host_header_ingest_cannot_match_is_the_default_host(
    tenants: Tenants, ingest: TestClient, host: bytes
) -> None:
    """Any Host that is no custom domain reaches the source as before: accepted."""
    src = ok(tenants.a.post("/sources", json={"name": f"h-{uuid.uuid4().hex[:6]}"}))

    def answered() -> httpx.Response | None:
        answer = ingest.post(f"/e/{src['id']}", headers={"host": host}, content=b"x")
        return None if answer.status_code in (404, 503) else answer  # not read in yet

    answer = wait_until(answered)
    assert answer.status_code == 200, answer.text
