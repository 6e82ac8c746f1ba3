"""Custom domains end to end over the real broker: the API stores them (one project per
host name), sources show their URL under the first, and ingest takes a request under a
custom domain only for that domain's project's sources."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from hookhouse.common import topics
from hookhouse.common.settings import Settings
from tests.api_client import Tenants, ok, refused
from tests.integration.test_api import topic_records, wait_until

pytestmark = pytest.mark.integration


def post(ingest: TestClient, host: str, source_id: str, method: str = "POST") -> httpx.Response:
    response: httpx.Response = ingest.request(
        method, f"/e/{source_id}", headers={"host": host}, json={"n": 1}
    )
    return response


def accepted(ingest: TestClient, host: str, source_id: str) -> bool:
    return post(ingest, host, source_id).status_code == 200


def source(tenants: Tenants, caller: str, name: str) -> dict[str, Any]:
    made: dict[str, Any] = ok(getattr(tenants, caller).post("/sources", json={"name": name}))
    return made


def test_a_custom_domain_is_listed_unique_shown_in_urls_and_deleted(
    tenants: Tenants, settings: Settings
) -> None:
    a, b = tenants.a, tenants.b
    host = f"hooks-{uuid.uuid4().hex[:8]}.example.com"
    made = ok(a.post("/teams/current/custom_domains", json={"hostname": host.upper() + "."}))
    assert made["hostname"] == host and made["id"].startswith("dom_")
    assert made["status"] == "active" and made["verification_errors"] == []
    assert ok(a.get("/teams/current/custom_domains")) == [made]
    assert ok(b.get("/teams/current/custom_domains")) == []
    # Another project, or the same, cannot claim it again.
    refused(b.post("/teams/current/custom_domains", json={"hostname": host}), 422, "HOSTNAME_TAKEN")
    refused(a.post("/teams/current/custom_domains", json={"hostname": host}), 422, "HOSTNAME_TAKEN")

    mine, theirs = source(tenants, "a", "shop"), source(tenants, "b", "shop")
    assert mine["url"] == f"https://{host}/e/{mine['id']}"
    assert theirs["url"] == f"{settings.ingest_url}/e/{theirs['id']}"
    second = ok(a.post("/teams/current/custom_domains", json={"hostname": f"two.{host}"}))
    assert ok(a.get(f"/sources/{mine['id']}"))["url"] == f"https://{host}/e/{mine['id']}"
    connection = ok(
        a.post(
            "/connections",
            json={
                "name": "c",
                "source_id": mine["id"],
                "destination": {"name": "d", "url": "https://d.example"},
            },
        )
    )
    assert connection["source"]["url"] == mine["url"]

    refused(b.delete(f"/teams/current/custom_domains/{made['id']}"), 404, "NOT_FOUND")
    assert ok(a.delete(f"/teams/current/custom_domains/{made['id']}")) == {"id": made["id"]}
    assert ok(a.get("/teams/current/custom_domains")) == [second]
    assert ok(a.get(f"/sources/{mine['id']}"))["url"] == f"https://two.{host}/e/{mine['id']}"
    ok(a.delete(f"/teams/current/custom_domains/{second['id']}"))
    assert ok(a.get(f"/sources/{mine['id']}"))["url"] == f"{settings.ingest_url}/e/{mine['id']}"
    # Deleted, the name is free for another project.
    ok(b.post("/teams/current/custom_domains", json={"hostname": host}))


def test_ingest_takes_a_custom_domains_requests_for_its_own_projects_sources_only(
    tenants: Tenants, settings: Settings, ingest: TestClient
) -> None:
    a = tenants.a
    host = f"in-{uuid.uuid4().hex[:8]}.example.com"
    mine, theirs = source(tenants, "a", "in-a"), source(tenants, "b", "in-b")
    domain = ok(a.post("/teams/current/custom_domains", json={"hostname": host}))

    wait_until(lambda: post(ingest, host, theirs["id"]).status_code == 404)
    answer = post(ingest, f"{host.upper()}:443", theirs["id"])
    assert answer.status_code == 404
    assert answer.json()["code"] == "SOURCE_NOT_ON_HOST" and answer.json()["message"]
    assert post(ingest, host, theirs["id"], "HEAD").status_code == 404
    assert accepted(ingest, host, mine["id"])
    assert post(ingest, host, mine["id"], "HEAD").status_code == 200
    # Any other host is the default one, as before: every project's sources.
    assert accepted(ingest, "ingest", theirs["id"])
    assert accepted(ingest, f"other.{host}", theirs["id"])

    def refusal_recorded() -> list[dict[str, Any]]:
        return [
            r
            for r in topic_records(settings, topics.RECORDS)
            if r.get("source_id") == theirs["id"] and r.get("rejection_cause") == "UNKNOWN"
        ]

    recorded = wait_until(refusal_recorded)
    # In the source's project, with the host it came in under.
    assert all(r["project_id"] == theirs["team_id"] for r in recorded)
    assert {r["headers"]["host"] for r in recorded} <= {host, f"{host.upper()}:443"}

    ok(a.delete(f"/teams/current/custom_domains/{domain['id']}"))
    wait_until(lambda: accepted(ingest, host, theirs["id"]))  # within the config's delay
