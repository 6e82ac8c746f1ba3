"""The pure half of a backtest: which rules run where, the deduplication memory on the
requests' own times, and the tally of outcomes."""

from __future__ import annotations

from hookhouse.common.domain.backtest import SAMPLES, Tally, leading_filters
from hookhouse.common.domain.dedup import DedupMemory
from hookhouse.common.domain.records import InboundRequest, b64
from hookhouse.common.domain.routing import route

FILTER = {"type": "filter", "body": {"a": 1}}
LATER = {"type": "filter", "body": {"b": 1}}
TRANSFORM = {"type": "transform", "transformation_id": "trs_1"}
DEDUP = {"type": "deduplicate", "window": 1000}
DELAY = {"type": "delay", "delay": 5}


def test_filters_ahead_of_a_transformation_run_over_all_the_rest_on_the_sample() -> None:
    assert leading_filters([FILTER, DELAY]) == ([FILTER], [])
    assert leading_filters([FILTER, TRANSFORM, LATER]) == ([FILTER], [TRANSFORM, LATER])
    # deduplication runs last wherever it is written, as in the router
    assert leading_filters([DEDUP, FILTER]) == ([FILTER], [DEDUP])
    assert leading_filters([TRANSFORM, FILTER]) == ([], [TRANSFORM, FILTER])


def request(n: int, body: bytes) -> InboundRequest:
    return InboundRequest(
        id=f"req_{n}",
        project_id="prj_1",
        source_id="src_1",
        received_at="2026-12-06T00:00:00.000Z",
        method="POST",
        path="/",
        query="",
        headers={},
        body=b64(body),
        verified=None,
    )


def test_the_tally_counts_outcomes_keeps_a_few_ids_and_the_first_distinct_errors() -> None:
    connection = {"id": "web_1", "destination_id": "des_1", "rules": [LATER, DEDUP]}
    memory = DedupMemory()
    tally = Tally()
    for n, body in enumerate([b'{"b":1}', b'{"b":2}', b'{"b":1}', b"x"] * 3):
        routed = route(request(n, body), [connection], seen_before=memory.at(n), now_ms=n)
        tally.routed(f"req_{n}", routed)
    assert tally.counts == {
        "events": 1,
        "filtered": 6,
        "transformation_failed": 0,
        "duplicate": 5,
    }
    assert tally.samples["events"] == ["req_0"]
    assert len(tally.samples["filtered"]) == SAMPLES
    tally.add("filtered", ["a", "b"], 1000)
    assert tally.counts["filtered"] == 1006


def test_transformation_errors_are_kept_once_each() -> None:
    connection = {"id": "web_1", "destination_id": "des_1", "rules": [TRANSFORM]}
    tally = Tally()
    for n in range(3):
        tally.routed(f"req_{n}", route(request(n, b"{}"), [connection], now_ms=n))
    assert tally.counts["transformation_failed"] == 3
    assert tally.errors == [
        {"request_id": "req_0", "error": "transformations are not available in this process"}
    ]
