"""Seek pagination over the config view: every row once, in order, both ways."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookhouse.api.pages import (
    InvalidQuery,
    boolean,
    decode_cursor,
    encode_cursor,
    list_query,
    page,
    time_bounds,
)
from hookhouse.api.queries import windows

ORDER = ("created_at", "updated_at")


def rows_of(stamps: list[int]) -> list[dict[str, Any]]:
    # Repeated stamps on purpose: the id breaks ties.
    return [
        {"id": f"src_{i:03d}", "created_at": f"2026-01-01T00:00:{s:02d}.000Z"}
        for i, s in enumerate(stamps)
    ]


def walk(rows: list[dict[str, Any]], params: dict[str, str]) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        query = list_query({**params, **({"next": cursor} if cursor else {})}, ORDER)
        result = page(rows, query, lambda r: r)
        pages.append([m["id"] for m in result["models"]])
        cursor = result["pagination"]["next"]
        if cursor is None:
            return pages


@given(
    st.lists(st.integers(0, 5), max_size=30),
    st.integers(1, 7),
    st.sampled_from(["asc", "desc"]),
)
def test_next_pages_cover_every_row_once_in_order(
    stamps: list[int], limit: int, direction: str
) -> None:
    rows = rows_of(stamps)
    pages = walk(rows, {"limit": str(limit), "dir": direction})
    seen = [i for p in pages for i in p]
    expected = sorted(rows, key=lambda r: (r["created_at"], r["id"]), reverse=direction == "desc")
    assert seen == [r["id"] for r in expected]
    assert all(len(p) == limit for p in pages[:-1])


@given(st.lists(st.integers(0, 5), min_size=1, max_size=30), st.integers(1, 7))
def test_prev_goes_back_to_the_page_before(stamps: list[int], limit: int) -> None:
    rows = rows_of(stamps)
    query = list_query({"limit": str(limit)}, ORDER)
    first = page(rows, query, lambda r: r)
    assert first["pagination"]["prev"] is None
    if first["pagination"]["next"] is None:
        return
    second = page(
        rows,
        list_query({"limit": str(limit), "next": first["pagination"]["next"]}, ORDER),
        lambda r: r,
    )
    back = page(
        rows,
        list_query({"limit": str(limit), "prev": second["pagination"]["prev"]}, ORDER),
        lambda r: r,
    )
    assert back["models"] == first["models"]


def test_rows_created_between_pages_are_not_repeated() -> None:
    rows = rows_of([1, 2, 3, 4])
    first = page(rows, list_query({"limit": "2"}, ORDER), lambda r: r)
    rows.append({"id": "src_999", "created_at": "2026-01-01T00:00:09.000Z"})  # newest, sorts first
    second = page(
        rows, list_query({"limit": "2", "next": first["pagination"]["next"]}, ORDER), lambda r: r
    )
    assert [m["id"] for m in first["models"]] == ["src_003", "src_002"]
    assert [m["id"] for m in second["models"]] == ["src_001", "src_000"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "0"}, "'limit'"),
        ({"limit": "251"}, "'limit'"),
        ({"limit": "x"}, "'limit'"),
        ({"dir": "up"}, "'dir'"),
        ({"order_by": "name"}, "'order_by'"),
        ({"next": "!!"}, "cursor"),
        ({"next": "W10"}, "cursor"),
        ({"next": "a", "prev": "b"}, "not both"),
    ],
)
def test_bad_list_parameters_name_themselves(params: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidQuery, match=message):
        list_query(params, ORDER)


def test_boolean_and_cursor_parsing() -> None:
    assert boolean({"disabled": "true"}, "disabled") is True
    assert boolean({}, "disabled") is None
    with pytest.raises(InvalidQuery):
        boolean({"disabled": "yes"}, "disabled")
    with pytest.raises(InvalidQuery):
        decode_cursor("bm90IGpzb24")


def test_time_ranges_in_hookdeck_s_bracket_syntax() -> None:
    rows = rows_of([1, 2, 3, 4])
    bounds = time_bounds(
        {
            "created_at[gte]": "2026-01-01T00:00:02Z",
            "created_at[lt]": "2026-01-01T00:00:04.000+00:00",
        },
        ORDER,
    )
    kept = [r["id"] for r in rows if all(b.admits(r.get(b.field)) for b in bounds)]
    assert kept == ["src_001", "src_002"]
    assert (
        time_bounds({"updated_at[gt]": "2026-01-01T00:00:00"}, ORDER)[0].at
        == "2026-01-01T00:00:00.000Z"
    )
    with pytest.raises(InvalidQuery, match=r"created_at\[lte\]"):
        time_bounds({"created_at[lte]": "yesterday"}, ORDER)
    with pytest.raises(InvalidQuery, match="1900 to 2299"):  # found by schemathesis
        time_bounds({"created_at[gt]": "0256-10-19T13:45:42Z"}, ORDER)


def cursor_of(stamp: str) -> str:
    return encode_cursor((stamp, "req_1"))


def test_newest_first_pages_look_in_widening_windows_then_everywhere() -> None:
    now = 1_800_000_000_000
    long_ago = now - 365 * 86_400_000
    first = windows(list_query({}, ORDER), now, long_ago)
    assert first[0] == "2027-01-15T07:00:00.000Z" and first[-1] is None and len(first) == 4
    # A project whose rows all fit in a day: the hour, then everything.
    assert len(windows(list_query({}, ORDER), now, now - 7_200_000)) == 2
    after = windows(
        list_query({"next": cursor_of("2027-01-01T00:00:00.000Z")}, ORDER), now, long_ago
    )
    assert after[0] == "2026-12-31T23:00:00.000Z"  # an hour before the cursor's row
    assert windows(list_query({"dir": "asc"}, ORDER), now, long_ago) == [None]
    assert windows(list_query({}, ORDER), now, 0) == [None]  # no rows at all
    before = list_query({"prev": cursor_of("2027-01-01T00:00:00.000Z")}, ORDER)
    assert windows(before, now, long_ago) == [None]
