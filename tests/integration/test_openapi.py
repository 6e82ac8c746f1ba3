"""Schemathesis against the API as served (uvicorn, real Kafka and ClickHouse): no
request, valid or not, gets a 5xx, and every answer is one the document declares."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from hookhouse.api.app import API_VERSION, build_app
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.settings import Settings
from hookhouse.stack.bootstrap import new_api_key, project
from tests.stack import free_port

pytestmark = pytest.mark.integration

EXAMPLES = 15  # per operation and generation mode


@pytest.fixture(scope="module")
def served(settings: Settings) -> Iterator[tuple[str, str]]:
    log = ConfigLog(settings)
    log.start()
    assert log.wait_ready(30)
    key = new_api_key(log, project(log, "fuzzed")["id"])
    log.stop()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(build_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            answer = httpx.get(
                f"{base}/{API_VERSION}/sources", headers={"Authorization": f"Bearer {key}"}
            )
            if answer.status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the API did not come up"
        time.sleep(0.2)
    yield base, key
    server.should_exit = True
    thread.join(30)


def test_the_document_is_served_and_valid(served: tuple[str, str]) -> None:
    base, _ = served
    document = httpx.get(f"{base}/{API_VERSION}/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    for path in ("/sources", "/connections/{id}/pause", "/events/{id}/retry"):
        assert path in document["paths"]


def test_no_generated_request_gets_a_server_error(served: tuple[str, str]) -> None:
    base, key = served
    schema = schemathesis.openapi.from_url(f"{base}/{API_VERSION}/openapi.json")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) > 40
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,  # the same cases on every run: a failure reproduces
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: schemathesis.Case[Any]) -> None:
                response = case.call(
                    base_url=f"{base}/{API_VERSION}",
                    headers={"Authorization": f"Bearer {key}"},
                    timeout=30,
                )
                declared = case.operation.definition.raw.get("responses", {})
                if response.status_code >= 500 or str(response.status_code) not in declared:
                    failures.append(
                        f"{case.method} {case.formatted_path} {case.query!r} {case.body!r} "
                        f"-> {response.status_code} {response.text[:300]}"
                    )

            run()
    assert not failures, "\n".join(failures[:20])
