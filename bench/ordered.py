"""Ordered delivery (issue 29) beside unordered delivery, in the same run.

    .venv/bin/python -m bench.ordered [--events 40000] [--keys 10000] [--hot 0.05]

One ``hookhouse deliverer`` process delivers N events to the fast local receiver
(``bench/receiver.py``) twice: from a pre-filled ``deliveries`` topic (unordered, the
baseline: ``bench/deliverer.py``'s run) and from a pre-filled ``ordered`` topic, the
same events spread over K keys of one connection with ``ordering`` (each key's events in
sequence, interleaved as ingest would have accepted them); with ``--hot F`` a share F of
them go to one more key, a busy customer among many.  Rate = events / (last
arrival - first arrival) at the receiver; the ratio is ordered over unordered.
"""

from __future__ import annotations

import argparse
import random

from bench import harness
from bench.deliverer import (
    DELIVERER_WARM_UP_EVENTS,
    Fill,
    configure,
    delivery,
    run_deliverer,
)
from hookhouse.common import topics
from hookhouse.common.clock import now_ms
from hookhouse.common.domain.ordering import lane_of
from hookhouse.common.domain.times import iso_ms
from hookhouse.common.settings import Settings

ORDERING = {"key": "body.customer"}


def fill_ordered(keys: int, hot: float = 0.0) -> Fill:
    def fill(
        settings: Settings, destination_id: str, connection_id: str, project_id: str, events: int
    ) -> None:
        stamp, pick = iso_ms(now_ms()), random.Random(29)

        def made(n: int) -> tuple[str, bytes]:
            one = delivery(n, stamp, destination_id, connection_id, project_id)
            if hot and pick.random() < hot:  # without --hot, the keys drawn as before
                one.ordering_key = "cus_hot"
                one.headers = {**one.headers, "x-bench-id": f"hot{n}"}  # its arrival is kept
            else:
                one.ordering_key = f"cus_{pick.randrange(keys)}"
            one.sequence = [0, n]
            return lane_of(one), one.to_json()

        harness.produce_all(
            settings, topics.name(settings, topics.ORDERED), (made(n) for n in range(events))
        )

    return fill


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=40000)
    parser.add_argument("--keys", type=int, default=10000)
    parser.add_argument(
        "--hot", type=float, default=0.0, help="the share of the events on one more key"
    )
    args = parser.parse_args()
    if not 0 <= args.hot < 1:
        parser.error("--hot is a share of the events: at least 0, below 1")
    with harness.infrastructure(), harness.receiver() as url:
        settings = harness.settings(topic_partitions=4)
        others = {"receiver": int(harness.stats(url)["pid"]), "Kafka broker": harness.broker_pid()}
        plain = configure(settings, url)
        ordered = configure(settings, url, ordering=ORDERING)
        run_deliverer(settings, plain, url, DELIVERER_WARM_UP_EVENTS, others)  # warm-up
        unordered_stats, _, unordered_cpu, first_u = run_deliverer(
            settings, plain, url, args.events, others
        )
        ordered_stats, _, ordered_cpu, first_o = run_deliverer(
            settings, ordered, url, args.events, others, fill_ordered(args.keys, args.hot)
        )
        again, _, _, _ = run_deliverer(settings, plain, url, args.events, others)
    first_rate = args.events / unordered_stats["seconds"]
    second_rate = args.events / again["seconds"]
    unordered = (first_rate + second_rate) / 2
    rate = args.events / ordered_stats["seconds"]
    hot = f", and {args.hot:.1%} of them on one more key" if args.hot else ""
    busy = sorted(ordered_stats["arrivals"].values())  # the hot key's, epoch ms
    busy_row = (
        f"| of which the busy key alone ({len(busy):,} events) | "
        f"{len(busy) / max((busy[-1] - busy[0]) / 1000, 1e-3):,.0f} | |"
        if len(busy) > 1
        else ""
    )
    section = "ordered-hot" if args.hot else "ordered"
    ratio = rate / unordered
    harness.record(
        section,
        {
            "headline": [
                {
                    "what": f"ordered delivery over {args.keys:,} keys{hot}, events/s "
                    "(vs unordered)",
                    "ours": rate,
                    "baseline": unordered,
                    "target": "measured (no target in issue 29)",
                }
            ]
        },
    )
    title = "with one busy key among many (issue 32)" if args.hot else "per key (issue 29)"
    body = f"""## Ordered delivery {title}

`.venv/bin/python -m bench.ordered --events {args.events} --keys {args.keys}{
        f" --hot {args.hot:g}" if args.hot else ""
    }`

{args.events:,} events (1 KiB JSON body) to a fast local receiver, delivered by one
`hookhouse deliverer` process (default settings, 256 in flight) from pre-filled topics
of 4 partitions. Baseline: unordered, from `deliveries`, run before and after the
ordered run ({first_rate:,.0f} and {second_rate:,.0f} events/s; the table has their
mean). Ordered: from `ordered`, the same events over {args.keys:,} keys of one
connection with `ordering: {{"key": "body.customer"}}` ({args.events // args.keys} a
key on average, interleaved at random{hot}). Every attempt is recorded to Kafka in both;
the ordered run also writes each key's lane record to the compacted `lanes` topic, and
starts a key's next event only once the record ending the one ahead is acknowledged.

| | events/s | ratio |
|---|---|---|
| unordered (baseline, mean of two runs) | {unordered:,.0f} | 1.00 |
| ordered, {args.keys:,} keys{hot} | {rate:,.0f} | {ratio:.2f} |
{busy_row}

CPU per event, unordered (first run, first arrival to last):
{unordered_cpu.per(args.events - first_u)}; ordered: {ordered_cpu.per(args.events - first_o)}.
"""
    harness.write_section(section, body)
    print(body)


if __name__ == "__main__":
    main()
