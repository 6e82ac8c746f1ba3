"""Hostile code through the API's transformation test run (``PUT /transformations/run``),
the way it was found: the API must answer with a failed run, stay small and idle, and
never let one project's run see another's."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from hookhouse.api.app import API_VERSION, build_app
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.sandbox import resident_bytes
from hookhouse.common.settings import Settings
from hookhouse.stack.bootstrap import new_api_key, project

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

MIB = 1024 * 1024
Run = Any  # a function: (project key, code, body) -> the run's JSON answer


@pytest.fixture(scope="module")
def run(settings: Settings) -> Iterator[Run]:
    log = ConfigLog(settings)
    log.start()
    assert log.wait_ready(30)
    keys = {name: new_api_key(log, project(log, name)["id"]) for name in ("one", "two")}
    with TestClient(build_app(settings), base_url="http://api") as client:

        def call(who: str, code: str, body: Any) -> Any:
            response = client.put(
                f"/{API_VERSION}/transformations/run",
                headers={"Authorization": f"Bearer {keys[who]}"},
                json={"code": code, "request": {"headers": {}, "body": body}},
            )
            if response.status_code == 401:
                return None
            assert response.status_code == 200, response.text
            return response.json()

        deadline = time.monotonic() + 30
        while call("one", "addHandler('transform', (r) => r)", {}) is None:
            assert time.monotonic() < deadline  # the API's reader catches up
            time.sleep(0.1)
        while call("two", "addHandler('transform', (r) => r)", {}) is None:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        yield call
    log.stop()


def test_a_run_never_sees_another_project_s_globals(run: Run) -> None:
    code = (
        "addHandler('transform', (request) => {"
        " const seen = globalThis.last; globalThis.last = request.body;"
        " request.body = {seen: seen === undefined ? null : seen}; return request; });"
    )
    run("one", code, {"card": "4111 of project one"})
    answer = run("two", code, {"card": "project two"})
    assert answer["error"] is None
    assert answer["request"]["body"] == {"seen": None}


def test_a_huge_array_buffer_fails_the_run_and_the_api_stays_small(run: Run) -> None:
    before = resident_bytes()
    code = (
        "addHandler('transform', (request) => {"
        " new Uint8Array(512 * 1024 * 1024).fill(1); return request; });"
    )
    answer = run("one", code, {})
    assert answer["request"] is None
    assert "used more than 64 MiB" in answer["error"]
    assert resident_bytes() - before < 200 * MIB


def test_endless_promise_jobs_fail_the_run_and_leave_the_api_idle(run: Run) -> None:
    code = (
        "addHandler('transform', (request) => {"
        " Promise.resolve().then(function f() { Promise.resolve().then(f); });"
        " return request; });"
    )
    answer = run("one", code, {})
    assert answer["request"] is None
    assert "ran longer than" in answer["error"]
    started = time.process_time()
    time.sleep(1.0)
    assert time.process_time() - started < 0.5  # not a core spinning in V8
    assert run("one", "addHandler('transform', (r) => r)", {"a": 1})["error"] is None
