"""Hardening class 3: what a provider puts in the path or query never changes where a
delivery goes, and the destination's own query parameters (and API key) win.

The request's path is given here as ingest stores it: percent-decoded (``%2e%2e`` from
the provider is ``..`` here, ``%3F`` is ``?``, ``%23`` is ``#``)."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import parse_qsl, unquote, urlsplit

from hypothesis import given
from hypothesis import strategies as st
from yarl import URL

from hookhouse.common.domain.target import parameter_name, target

DEST = "https://d.example/hooks/p1?key=own"
KEY = (("api_key", "SECRET"),)

# Path pieces that have escaped URLs before, and anything else.
PIECES = st.sampled_from(
    ["", ".", "..", "..;", "...", "%2e%2e", "?", "#", "%", "\\", ";", "a", "é", "\x00", "\r\n"]
)
PATHS = st.one_of(
    st.text(),
    st.lists(PIECES | st.text(max_size=5), max_size=12).map("/".join),
)
QUERY_PIECES = st.sampled_from(
    [
        "key=evil",
        "KEY=evil",
        "k%65y=evil",
        "key[]=evil",
        "api_key=evil",
        "Api.Key=evil",
        "api key=x",
        "a=1",
        "#",
        "%23",
        "&",
        "=",
        "b=%26c",
        "ü=1",
        "x=#y",
    ]
)
QUERIES = st.one_of(
    st.text(alphabet=st.characters(max_codepoint=0xFF)),
    st.lists(QUERY_PIECES | st.text(max_size=5), max_size=8).map("&".join),
)


def test_dot_segments_never_climb_above_the_destinations_path() -> None:
    for path in ("/../../admin", "/a/../../../admin", "/..", "/./../admin"):
        url = target(DEST, path, "").url
        assert urlsplit(url).path.startswith("/hooks/p1/"), (path, url)
    assert urlsplit(target(DEST, "/../../admin", "").url).path == "/hooks/p1/admin"
    assert urlsplit(target(DEST, "/a/b/../c", "").url).path == "/hooks/p1/a/c"


def test_an_encoded_question_mark_stays_in_the_path() -> None:
    url = target(DEST, "/x?api_key=attacker&key=evil", "", True, KEY).url
    parts = urlsplit(url)
    assert parts.path == "/hooks/p1/x%3Fapi_key=attacker&key=evil"
    assert parse_qsl(parts.query) == [("key", "own"), ("api_key", "SECRET")]


def test_an_encoded_hash_does_not_cut_off_the_destinations_query_and_key() -> None:
    url = target(DEST, "/x#", "", True, KEY).url
    parts = urlsplit(url)
    assert (parts.path, parts.fragment) == ("/hooks/p1/x%23", "")
    assert parse_qsl(parts.query) == [("key", "own"), ("api_key", "SECRET")]


def test_the_destinations_parameters_and_key_win_over_the_requests() -> None:
    received = "key=evil&KEY=evil&k%65y=evil&api_key=evil&Api.Key=evil&key[]=x&a=1&b=%26c"
    parts = urlsplit(target(DEST, "/x", received, True, KEY).url)
    assert parse_qsl(parts.query) == [
        ("key", "own"),
        ("a", "1"),
        ("b", "&c"),
        ("api_key", "SECRET"),
    ]


def test_a_hash_in_the_request_query_is_data() -> None:
    parts = urlsplit(target(DEST, "", "x=#y&z=1", True, KEY).url)
    assert parts.fragment == ""
    assert parse_qsl(parts.query) == [
        ("key", "own"),
        ("x", "#y"),
        ("z", "1"),
        ("api_key", "SECRET"),
    ]


def test_what_an_attempt_shows_has_its_credentials_masked() -> None:
    where = target("https://user:pw@d.example/h?key=own", "/x", "a=1", True, KEY)
    assert "SECRET" in where.url and "pw" in where.url
    assert where.shown == "https://user:***@d.example/h/x?key=own&a=1&api_key=***"
    plain = target("https://d.example/h", "/x", "a=1")
    assert plain.shown == plain.url


@given(PATHS, QUERIES)
def test_any_path_and_query_stay_below_the_destination(path: str, query: str) -> None:
    url = target(DEST, path, query, True, KEY).url
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.fragment) == ("https", "d.example", "")
    assert parts.path == "/hooks/p1" or parts.path.startswith("/hooks/p1/")
    assert url.isascii() and not any(c in url for c in " \t\r\n\x00\\#")
    assert re.fullmatch(r"([^%]|%[0-9A-Fa-f]{2})*", url)  # a stray % is sent as %25
    assert urlsplit(target(DEST, path, query, False, KEY).url).path == "/hooks/p1"
    # Below it even for a server that decodes once and resolves dot segments (or drops
    # ``;`` parameters first, as Tomcat does).
    for raw in parts.path.split("/"):
        assert raw.split(";")[0] not in (".", "..")
        assert unquote(raw) not in (".", "..")
    assert posixpath.normpath(unquote(parts.path)).startswith("/hooks/p1")
    # Sent as built: the client's URL type keeps it (the deliverer passes encoded=True),
    # and parses the same query.
    assert URL(url, encoded=True).raw_path_qs == url.removeprefix("https://d.example")
    # The destination's parameter first, its key last, and nobody else's of those names.
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    assert pairs[0] == ("key", "own") and pairs[-1] == ("api_key", "SECRET")
    assert [parameter_name(f"{n}=") for n, _ in pairs].count("key") == 1
    assert [parameter_name(f"{n}=") for n, _ in pairs].count("api_key") == 1


@given(st.lists(st.sampled_from(["a", "b", ".", "..", ""]), max_size=8).map("/".join))
def test_a_path_is_forwarded_with_its_dot_segments_resolved_below_the_destination(
    path: str,
) -> None:
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            kept = kept[:-1]
        elif segment not in ("", "."):
            kept.append(segment)
    forwarded = urlsplit(target("https://d.example/h", "/" + path, "").url).path
    assert forwarded.removeprefix("/h").strip("/").split("/") == (kept or [""])


def test_long_paths_are_not_kept_in_the_target_cache() -> None:
    """A provider sending thousands of distinct long paths must not fill the deliverer's
    memory through its cache of built URLs."""
    from hookhouse.common.domain import target as targets

    before = targets._cached.cache_info().currsize
    for n in range(50):
        targets.target("https://example.test/hooks", f"/{n}" + ";" * 16_000, "")
    assert targets._cached.cache_info().currsize == before
    targets.target("https://example.test/hooks", f"/short-{before}-{id(targets)}", "")
    assert targets._cached.cache_info().currsize == before + 1
