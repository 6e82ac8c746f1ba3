"""Router throughput: filter-only and JavaScript connections against a raw passthrough.

    .venv/bin/python -m bench.router [--events 20000]

Each run reads the same N pre-filled requests (1 KiB JSON body, one source, so one
partition: the router routes a partition in order) and writes one delivery per
request.  The rate is N over the first-to-last time stamp of the records written.
Baseline, same run: a raw aiokafka consumer that produces every record it reads to
another topic, awaiting the acknowledgements per fetched batch (the router's
at-least-once discipline).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from typing import Any

import orjson
import uvloop
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from bench import harness
from hookhouse.common import topics
from hookhouse.common.clock import now_ms
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.domain.config import new_resource
from hookhouse.common.domain.records import InboundRequest, b64
from hookhouse.common.domain.times import iso_ms
from hookhouse.common.kafka import client_config
from hookhouse.common.settings import Settings

BODY = orjson.dumps({"id": "evt", "type": "order.created", "data": {"pad": "x" * 950}})
SOURCE = "src_bench"
FILTER = {"type": "filter", "body": {"type": {"$in": ["order.created", "order.updated"]}}}
CODE = """
addHandler('transform', (request, context) => {
  request.headers['x-tenant'] = context.env.TENANT;
  request.body.tenant = context.env.TENANT;
  return request;
});
"""


def configure(settings: Settings, rules: list[dict[str, Any]], with_code: bool) -> None:
    log = ConfigLog(settings)
    log.start()
    log.wait_ready(30)
    project = new_resource("tm", "", {"name": "bench", "signing_secret": "s"}, now_ms())
    log.append("project", project["id"], project)
    if with_code:
        code = new_resource(
            "trs", project["id"], {"name": "t", "code": CODE, "env": {"TENANT": "a"}}, now_ms()
        )
        log.append("transformation", code["id"], code)
        rules = [{"type": "transform", "transformation_id": code["id"]}, *rules]
    dest = new_resource("des", project["id"], {"name": "d", "url": "http://127.0.0.1:9/"}, now_ms())
    log.append("destination", dest["id"], dest)
    conn = new_resource(
        "web",
        project["id"],
        {"name": "c", "source_id": SOURCE, "destination_id": dest["id"], "rules": rules},
        now_ms(),
    )
    log.append("connection", conn["id"], conn)
    log.stop()


def fill(settings: Settings, events: int, project_id: str = "tm_bench") -> None:
    stamp = iso_ms(now_ms())
    requests = (
        InboundRequest(
            id=f"req_{n:010d}",
            project_id=project_id,
            source_id=SOURCE,
            received_at=stamp,
            method="POST",
            path="/orders",
            query="",
            headers={"content-type": "application/json"},
            body=b64(BODY),
        )
        for n in range(events)
    )
    harness.produce_all(
        settings, topics.name(settings, topics.REQUESTS), ((SOURCE, r.to_json()) for r in requests)
    )


def span(settings: Settings, topic: str) -> tuple[int, int, int]:
    """(records, first time stamp, last time stamp) of ``topic``, in ms."""
    stamps = [msg.timestamp()[1] for msg in harness.read_topic(settings, topic)]
    return len(stamps), min(stamps, default=2**63), max(stamps, default=0)


def count(settings: Settings, topic: str) -> int:
    consumer = Consumer({**client_config(settings), "group.id": "bench-count"})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    total = sum(
        consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions
    )
    consumer.close()
    return int(total)


async def passthrough(settings: Settings, events: int, out: str) -> None:
    consumer = AIOKafkaConsumer(
        topics.name(settings, topics.REQUESTS),
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=f"bench-{out}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        linger_ms=2,
        max_batch_size=1_048_576,
    )
    await consumer.start()
    await producer.start()
    seen = 0
    try:
        while seen < events:
            batches = await consumer.getmany(timeout_ms=500, max_records=500)
            acks = [
                await producer.send(out, msg.value, key=msg.key)
                for records in batches.values()
                for msg in records
            ]
            await asyncio.gather(*acks)
            await consumer.commit()
            seen += len(acks)
    finally:
        await consumer.stop()
        await producer.stop()


def run_router(settings: Settings, events: int) -> tuple[float, str]:
    """Records per second, and CPU per request from the first delivery to the last."""
    deliveries = topics.name(settings, topics.DELIVERIES)
    env = {**harness.env_of(settings), "HOOKHOUSE_ROUTER_PORT": "29811"}
    process = subprocess.Popen(
        [sys.executable, "-m", "hookhouse.cli", "router"], env=env, cwd=harness.REPO
    )
    cpu = harness.CpuMeter({"router": process.pid, "Kafka broker": harness.broker_pid()})
    try:
        harness.wait(lambda: count(settings, deliveries) > 0, 300)
        cpu.start()
        started_at = count(settings, deliveries)
        harness.wait(lambda: count(settings, deliveries) >= events, 900)
        cpu.stop()
    finally:
        process.terminate()
        process.wait(60)
    n, first, last = span(settings, deliveries)
    return n / max(last - first, 1) * 1000, cpu.per(events - started_at)


def run_passthrough(settings: Settings, events: int, out: str) -> tuple[float, str]:
    """The baseline's records per second, and its CPU per record (it runs in this process)."""
    topic = topics.name(settings, out)
    admin = AdminClient(client_config(settings))
    for future in admin.create_topics([NewTopic(topic, 4, 1)]).values():
        future.result()
    print(f"raw aiokafka passthrough: {events} records…", flush=True)
    cpu = harness.CpuMeter({"passthrough": os.getpid(), "Kafka broker": harness.broker_pid()})
    cpu.start()
    uvloop.run(passthrough(settings, events, topic))
    cpu.stop()
    n, first, last = span(settings, topic)
    return n / max(last - first, 1) * 1000, cpu.per(events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20000)
    args = parser.parse_args()
    rates: dict[str, float] = {}
    cpu: dict[str, str] = {}
    with harness.infrastructure():
        base = harness.settings(topic_partitions=4)
        fill(base, args.events)
        before, cpu["raw aiokafka passthrough (before)"] = run_passthrough(
            base, args.events, "passthrough-1"
        )
        for label, rules, with_code in [
            ("router, filter-only connection", [FILTER], False),
            ("router, JavaScript transformation + filter", [FILTER], True),
        ]:
            settings = harness.settings(topic_partitions=4)
            configure(settings, rules, with_code)
            fill(settings, args.events)
            print(f"{label}: {args.events} requests…", flush=True)
            started = time.monotonic()
            rates[label], cpu[label] = run_router(settings, args.events)
            print(f"  {rates[label]:,.0f}/s ({time.monotonic() - started:.0f} s)", flush=True)
        after, cpu["raw aiokafka passthrough (after)"] = run_passthrough(
            base, args.events, "passthrough-2"
        )
    rates = {
        "raw aiokafka consume → produce (baseline)": (before + after) / 2,
        **rates,
    }

    baseline = rates["raw aiokafka consume → produce (baseline)"]
    harness.record(
        "router",
        {
            "headline": [
                {
                    "what": f"{label}, records/s (vs raw aiokafka)",
                    "ours": rate,
                    "baseline": baseline,
                    "target": "≥ 0.50" if "filter-only" in label else "≥ 3,000/s",
                }
                for label, rate in rates.items()
                if label.startswith("router")
            ]
        },
    )
    rows = "\n".join(f"| {k} | {v:,.0f} | {v / baseline:.2f} |" for k, v in rates.items())
    cpu_rows = "\n".join(f"- {k}: {v}" for k, v in cpu.items())
    body = f"""## Router throughput (issue 5)

`.venv/bin/python -m bench.router --events {args.events}`

{args.events} requests (1 KiB JSON body) pre-filled on `requests`, one source (one
partition), read by one process. hookhouse: one `hookhouse router` process with
one connection whose rules are a filter on the body (`$in`), or a small JavaScript
transformation (sets a header and a body field) then that filter; every request becomes
a delivery, an event row and a request row (with the transformation also its execution
and the event's transformed payload), acknowledged before the offsets commit.
Baseline: a raw aiokafka consumer producing each record to another topic, acks awaited
per batch, run before and after the routers ({before:,.0f} and {after:,.0f} records/s;
the table has their mean). Rate = records / (last - first time stamp of what was written).

| | records/s | ratio |
|---|---|---|
{rows}

CPU per request (per record for the passthrough), from the first
record written to the last; the broker's share includes what it spends serving the
records' readers:

{cpu_rows}

Targets: filter-only ≥ 0.50 of the passthrough; JavaScript ≥ 3,000 events/s per process.
"""
    harness.write_section("router", body)
    print(body)


if __name__ == "__main__":
    main()
