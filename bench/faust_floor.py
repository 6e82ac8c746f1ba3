"""The least a Faust agent costs per record: take batches from a topic, do nothing.

    python -m bench.faust_floor TOPIC COUNT BOOTSTRAP DATADIR

Run by ``bench.router`` on the same pre-filled ``requests`` topic the router reads, with
the router's consumer settings (``take_events`` of 500 within 5 ms, 8 MiB fetches).
Prints one line, ``{"rate": records/s, "cpu_us": CPU µs per record}``, once it has
taken COUNT records; the router can go no faster than this on the same machine.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import faust
import orjson

from bench import harness
from hookhouse.router.app import BATCH_SIZE, BATCH_WITHIN_SECONDS, FETCH_BYTES


def main() -> None:
    topic, expected, bootstrap, datadir = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    app = faust.App(
        f"bench-faust-floor-{os.getpid()}",
        broker=f"kafka://{bootstrap}",
        value_serializer="raw",
        key_serializer="raw",
        consumer_auto_offset_reset="earliest",
        consumer_max_fetch_size=FETCH_BYTES,
        datadir=datadir,
        web_port=29812,
    )
    seen = {"taken": 0, "timed": 0, "started": 0.0, "cpu": 0.0}

    @app.agent(app.topic(topic, internal=False), concurrency=1)
    async def take(stream: Any) -> None:
        async for batch in stream.take_events(BATCH_SIZE, within=BATCH_WITHIN_SECONDS):
            if not seen["taken"]:  # timed from the first batch on, as the router is
                seen["started"], seen["cpu"] = time.perf_counter(), harness.cpu_seconds(os.getpid())
            else:
                seen["timed"] += len(batch)
            seen["taken"] += len(batch)
            if seen["taken"] >= expected:
                seconds = time.perf_counter() - seen["started"]
                used = harness.cpu_seconds(os.getpid()) - seen["cpu"]
                result = {"rate": seen["timed"] / seconds, "cpu_us": used / seen["timed"] * 1e6}
                sys.stdout.write(orjson.dumps(result).decode() + "\n")
                sys.stdout.flush()
                os._exit(0)

    worker = faust.Worker(app, loglevel="warning", quiet=True, redirect_stdouts=False)
    worker.spinner = None
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
