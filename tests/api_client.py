"""The management API in-process (Starlette's test client) over the real broker and
ClickHouse, as the integration and security tests drive it: one app, two projects."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.testclient import TestClient

from hookhouse.api.app import API_VERSION, build_app
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.settings import Settings
from hookhouse.stack.bootstrap import new_api_key, project


class Caller:
    """One project's client: the app's single test client, with that project's key."""

    def __init__(self, client: TestClient, key: str) -> None:
        self.client, self.key = client, key

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.key}", **kwargs.pop("headers", {})}
        response: httpx.Response = self.client.request(
            method, f"/{API_VERSION}{path}", headers=headers, **kwargs
        )
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)


@dataclass
class Tenants:
    log: ConfigLog
    a: Caller
    b: Caller


@contextmanager
def running_api(settings: Settings, raise_server_exceptions: bool = True) -> Iterator[Tenants]:
    """The API app, started, with one API key for each of two projects; without
    ``raise_server_exceptions`` an error the app lets through is the 500 a client gets."""
    log = ConfigLog(settings)
    log.start()
    assert log.wait_ready(30)
    key_a = new_api_key(log, project(log, "project-a")["id"])
    key_b = new_api_key(log, project(log, "project-b")["id"])
    app = build_app(settings)
    with TestClient(
        app, base_url="http://api", raise_server_exceptions=raise_server_exceptions
    ) as client:
        a, b = Caller(client, key_a), Caller(client, key_b)
        deadline = time.monotonic() + 30
        while a.get("/sources").status_code == 401:  # the API's reader catches up
            assert time.monotonic() < deadline
            time.sleep(0.1)
        yield Tenants(log, a, b)
    log.stop()


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def refused(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["status"] == status, body
    assert body["message"]
    return str(body["message"])
