"""The benchmarks' CPU meter: shares of named processes and of the whole machine, the
figures bench.e2e prints for a run."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench import harness


def test_a_busy_process_comes_first_and_the_machine_was_at_least_as_busy() -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(0.5)  # the sleeper's start-up CPU is spent before the meter starts
        meter = harness.CpuMeter({"sleeper": sleeper.pid, "spinner": os.getpid(), "gone": 0})
        meter.start()
        until = time.process_time() + 0.3
        while time.process_time() < until:
            pass
        meter.stop()
    finally:
        sleeper.kill()
        sleeper.wait()
    shares = meter.shares()
    assert list(shares) == ["spinner", "sleeper"]  # busiest first; pid 0 is left out
    assert shares["spinner"] > 0
    # The machine's share counts every process, the spinner's included (clock ticks of
    # 10 ms on both sides, hence the margin).
    assert meter.machine_share() >= shares["spinner"] - 10
