"""The management API through HTTP, as a Hookdeck client uses it, over the real broker:
every resource's lifecycle, tenant isolation, name conflicts, upsert, validation."""

from __future__ import annotations

import base64
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from hookhouse.api import shapes
from hookhouse.common import clickhouse, topics
from hookhouse.common.clock import now_ms
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.domain.config import new_resource
from hookhouse.common.settings import Settings
from tests.api_client import Caller, Tenants, ok, refused
from tests.e2e.running import topic_values

pytestmark = pytest.mark.integration


def test_a_source_lives_and_dies_like_hookdeck_s(tenants: Tenants) -> None:
    a = tenants.a
    made = ok(a.post("/sources", json={"name": "shop", "allowed_http_methods": ["POST"]}))
    assert made["id"].startswith("src_") and made["url"].endswith(f"/e/{made['id']}")
    assert made["allowed_http_methods"] == ["POST"] and made["disabled_at"] is None
    assert ok(a.get(f"/sources/{made['id']}")) == made
    changed = ok(a.put(f"/sources/{made['id']}", json={"description": "orders"}))
    assert changed["description"] == "orders" and changed["name"] == "shop"
    assert changed["allowed_http_methods"] == ["POST"]  # fields not given are kept
    disabled = ok(a.put(f"/sources/{made['id']}/disable"))
    assert disabled["disabled_at"] is not None
    assert ok(a.put(f"/sources/{made['id']}/archive"))["disabled_at"] == disabled["disabled_at"]
    assert ok(a.get("/sources", params={"disabled": "true"}))["models"][0]["id"] == made["id"]
    assert ok(a.put(f"/sources/{made['id']}/unarchive"))["disabled_at"] is None
    assert ok(a.delete(f"/sources/{made['id']}")) == {"id": made["id"]}
    refused(a.get(f"/sources/{made['id']}"), 404, "NOT_FOUND")


def test_destinations_connections_and_transformations(tenants: Tenants) -> None:
    a = tenants.a
    connection = ok(
        a.post(
            "/connections",
            json={
                "name": "orders",
                "source": {"name": "orders-in"},
                "destination": {"name": "orders-out", "url": "https://example.com/hooks"},
                "rules": [
                    {"type": "filter", "body": {"type": "order"}},
                    {
                        "type": "transform",
                        "transformation": {"name": "tag", "code": TAGGING},
                    },
                ],
            },
        )
    )
    assert connection["source"]["name"] == "orders-in"
    assert connection["destination"]["url"] == "https://example.com/hooks"
    transformation_id = connection["rules"][1]["transformation_id"]
    assert ok(a.get(f"/transformations/{transformation_id}"))["name"] == "tag"
    source_id, destination_id = connection["source"]["id"], connection["destination"]["id"]

    # What others use cannot be deleted from under them.
    assert connection["id"] in refused(a.delete(f"/sources/{source_id}"), 422, "RESOURCE_IN_USE")
    refused(a.delete(f"/destinations/{destination_id}"), 422, "RESOURCE_IN_USE")
    refused(a.delete(f"/transformations/{transformation_id}"), 422, "RESOURCE_IN_USE")

    assert ok(a.get("/connections/count", params={"source_id": source_id})) == {"count": 1}
    listed = ok(a.get("/connections", params={"destination_id": destination_id}))
    assert [m["id"] for m in listed["models"]] == [connection["id"]]
    paused = ok(a.put(f"/connections/{connection['id']}/pause"))
    assert paused["paused_at"] is not None
    assert ok(a.get("/connections/count", params={"paused": "true"}))["count"] >= 1
    assert ok(a.put(f"/connections/{connection['id']}/unpause"))["paused_at"] is None
    renamed = ok(a.put(f"/connections/{connection['id']}", json={"rules": []}))
    assert renamed["rules"] == [] and renamed["name"] == "orders"
    refused(
        a.put(f"/connections/{connection['id']}", json={"source_id": "src_elsewhere"}),
        422,
        "UNPROCESSABLE_ENTITY",
    )
    ok(a.put(f"/transformations/{transformation_id}", json={"env": {"TAG": "x"}}))
    assert ok(a.get(f"/transformations/{transformation_id}"))["env"] == {"TAG": "x"}
    assert ok(a.delete(f"/connections/{connection['id']}")) == {"id": connection["id"]}
    assert ok(a.delete(f"/transformations/{transformation_id}"))["id"] == transformation_id
    assert ok(a.delete(f"/destinations/{destination_id}"))["id"] == destination_id
    assert ok(a.delete(f"/sources/{source_id}"))["id"] == source_id


TAGGING = "addHandler('transform', (request, context) => request)"


def test_upsert_is_idempotent_and_updates_by_name(tenants: Tenants) -> None:
    a = tenants.a
    first = ok(a.put("/destinations", json={"name": "crm", "url": "https://crm.example/a"}))
    again = ok(a.put("/destinations", json={"name": "crm", "url": "https://crm.example/a"}))
    assert again == first  # the same body twice: the same resource, unchanged
    moved = ok(
        a.put(
            "/destinations",
            json={"name": "crm", "url": "https://crm.example/b", "http_timeout": 45},
        )
    )
    assert moved["id"] == first["id"] and moved["url"] == "https://crm.example/b"
    assert (first["http_timeout"], moved["http_timeout"]) == (None, 45)
    assert ok(a.get("/destinations", params={"name": "crm"}))["count"] == 1
    body = {"name": "sync", "source": {"name": "crm-in"}, "destination_id": first["id"]}
    one = ok(a.put("/connections", json=body))
    two = ok(a.put("/connections", json={**body, "description": "nightly"}))
    assert two["id"] == one["id"] and two["description"] == "nightly"


def test_names_are_unique_and_bad_bodies_are_named(tenants: Tenants) -> None:
    a = tenants.a
    ok(a.post("/sources", json={"name": "unique"}))
    refused(a.post("/sources", json={"name": "unique"}), 422, "NAME_TAKEN")
    other = ok(a.post("/sources", json={"name": "other"}))
    refused(a.put(f"/sources/{other['id']}", json={"name": "unique"}), 422, "NAME_TAKEN")
    ok(tenants.b.post("/sources", json={"name": "unique"}))  # another project: free
    for path, body, field in [
        ("/sources", {}, "'name'"),
        ("/sources", {"name": "m", "allowed_http_methods": ["TRACE"]}, "allowed_http_methods"),
        ("/sources", {"name": "r", "custom_response": {"content_type": "csv"}}, "custom_response"),
        ("/destinations", {"name": "d", "url": "ftp://x"}, "'url'"),
        ("/destinations", {"name": "d", "url": "http://x", "rate_limit": 0}, "rate_limit"),
        ("/destinations", {"name": "d", "url": "http://x", "http_timeout": 0}, "http_timeout"),
        ("/destinations", {"name": "d", "url": "http://x", "http_timeout": 1.5}, "http_timeout"),
        ("/transformations", {"name": "t", "code": "this is not javascript"}, "load"),
        ("/connections", {"source": {"name": "s"}}, "destination"),
    ]:
        message = refused(a.post(path, json=body), 422, "UNPROCESSABLE_ENTITY")
        assert field in message, (path, message)
    refused(a.post("/sources", content=b"{nope"), 400, "INVALID_JSON")
    refused(a.get("/sources", params={"limit": "0"}), 422, "UNPROCESSABLE_ENTITY")
    refused(a.get("/sources", params={"next": "garbage"}), 422, "UNPROCESSABLE_ENTITY")


def test_issue_triggers(tenants: Tenants) -> None:
    a = tenants.a
    unnamed = ok(a.post("/issue-triggers", json={"type": "delivery"}))
    assert unnamed["name"] is None
    assert unnamed["configs"] == {"strategy": "first_attempt", "connections": "*"}
    ok(a.post("/issue-triggers", json={"type": "delivery"}))  # unnamed ones may repeat
    named = ok(
        a.put(
            "/issue-triggers",
            json={
                "name": "slow-crm",
                "type": "backpressure",
                "configs": {"delay": 600_000, "destinations": ["des_x"]},
                "channels": {"email": {}},
            },
        )
    )
    again = ok(a.put("/issue-triggers", json={"name": "slow-crm", "type": "backpressure"}))
    assert again["id"] == named["id"] and again["configs"]["delay"] == 600_000
    switched = ok(a.put(f"/issue-triggers/{named['id']}", json={"type": "transformation"}))
    assert switched["configs"] == {"log_level": "error", "transformations": "*"}
    assert ok(a.put(f"/issue-triggers/{named['id']}/disable"))["disabled_at"] is not None
    for body, field in [
        ({"type": "outage"}, "'type'"),
        ({"type": "delivery", "configs": {"strategy": "sometimes"}}, "strategy"),
        ({"type": "delivery", "configs": {"delay": 1}}, "delay"),
        ({"type": "backpressure", "configs": {"delay": 1}}, "delay"),
        ({"type": "delivery", "channels": {"pager": {}}}, "channels"),
    ]:
        assert field in refused(a.post("/issue-triggers", json=body), 422, "UNPROCESSABLE_ENTITY")
    assert ok(a.get("/issue-triggers/count"))["count"] == 3
    assert ok(a.delete(f"/issue-triggers/{named['id']}")) == {"id": named["id"]}


def test_one_project_cannot_see_change_or_count_another_s(tenants: Tenants) -> None:
    a, b = tenants.a, tenants.b
    src = ok(a.post("/sources", json={"name": "private"}))
    des = ok(a.post("/destinations", json={"name": "private", "url": "https://a.example"}))
    con = ok(a.post("/connections", json={"source_id": src["id"], "destination_id": des["id"]}))
    for path, resource_id in [
        ("/sources", src["id"]),
        ("/destinations", des["id"]),
        ("/connections", con["id"]),
    ]:
        refused(b.get(f"{path}/{resource_id}"), 404, "NOT_FOUND")
        refused(b.put(f"{path}/{resource_id}", json={"description": "x"}), 404, "NOT_FOUND")
        refused(b.put(f"{path}/{resource_id}/disable"), 404, "NOT_FOUND")
        refused(b.delete(f"{path}/{resource_id}"), 404, "NOT_FOUND")
        assert resource_id not in {
            m["id"] for m in ok(b.get(path, params={"limit": 250}))["models"]
        }
        assert ok(b.get(f"{path}/count", params={"id": resource_id}))["count"] == 0
    # Nor use another project's resources in its own.
    refused(
        b.post(
            "/connections",
            json={"source_id": src["id"], "destination": {"name": "x", "url": "https://b.example"}},
        ),
        404,
        "NOT_FOUND",
    )
    refused(b.get("/sources", headers={"Authorization": "Bearer wrong"}), 401, "UNAUTHORIZED")


def test_lists_page_with_cursors(tenants: Tenants) -> None:
    a = tenants.a
    made = [
        ok(a.post("/destinations", json={"name": f"page-{i}", "url": "https://p.example"}))["id"]
        for i in range(5)
    ]
    seen: list[str] = []
    params: dict[str, str] = {"limit": "2", "dir": "asc"}
    while True:
        result = ok(a.get("/destinations", params=params))
        assert result["pagination"]["limit"] == 2 and result["count"] <= 2
        seen += [m["id"] for m in result["models"]]
        if result["pagination"]["next"] is None:
            break
        params = {"limit": "2", "dir": "asc", "next": result["pagination"]["next"]}
    assert [i for i in seen if i in made] == made
    assert len(seen) == len(set(seen))


def test_two_replicas_creating_one_name_agree_on_one_winner(
    tenants: Tenants, settings: Settings
) -> None:
    """Two writers race on a name; every reader keeps the first in the log, the other
    writer learns it lost, and the log ends with no trace of the loser."""
    project_id = tenants.log.state.find("project", "", "project-a")["id"]  # type: ignore[index]
    writers = [ConfigLog(settings) for _ in range(2)]
    for w in writers:
        w.start()
        assert w.wait_ready(30)
    resources = [
        new_resource("des", project_id, {"name": "raced", "url": "https://r.example"}, now_ms())
        for _ in writers
    ]
    outcomes: list[bool] = [False, False]
    barrier = threading.Barrier(2)

    def write(index: int) -> None:
        barrier.wait()
        outcomes[index] = writers[index].put(
            "destination", resources[index]["id"], resources[index]
        )

    threads = [threading.Thread(target=write, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == [False, True]
    winner = resources[outcomes.index(True)]["id"]
    late = ConfigLog(settings)  # a replica started afterwards reads the same answer
    late.start()
    assert late.wait_ready(30) and late.catch_up(10)
    for reader in [*writers, late, tenants.log]:
        assert reader.catch_up(10)
        assert reader.state.find("destination", project_id, "raced")["id"] == winner  # type: ignore[index]
        loser = resources[outcomes.index(False)]["id"]
        assert reader.state.get("destination", loser) is None
    for w in [*writers, late]:
        w.stop()


def insert(settings: Settings, table: str, rows: list[dict[str, Any]]) -> None:
    client = clickhouse.client(settings, settings.clickhouse_database)
    columns = list(rows[0])
    client.insert(table, [[row[c] for c in columns] for row in rows], column_names=columns)


# Within the tables' retention (a TTL may drop older rows at any merge): yesterday, 10:00.
RECENT = (datetime.now(UTC) - timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
HOUR = RECENT.strftime("%Y-%m-%dT%H")


def at(second: int) -> datetime:
    return RECENT + timedelta(seconds=second)


def event_row(project: str, n: int, **values: Any) -> dict[str, Any]:
    return {
        "id": f"evt_{project[-4:]}_{n:04d}",
        "project_id": project,
        "request_id": f"req_{n % 3}",
        "source_id": "src_q",
        "connection_id": "web_even" if n % 2 == 0 else "web_odd",
        "destination_id": "des_q",
        "created_at": at(n),
        "status": "SUCCESSFUL" if n % 3 else "FAILED",
        "attempts": n % 4,
        "last_attempt_at": at(n + 1),
        "response_status": 200 if n % 3 else 500,
        "error_code": "" if n % 3 else "BAD_RESPONSE",
        "version": 1,
        **values,
    }


def connected(caller: Caller, name: str, url: str) -> dict[str, Any]:
    """A connection ``name`` from a new source ``name-in`` to ``url`` (``name-out``)."""
    body = {
        "name": name,
        "source": {"name": f"{name}-in"},
        "destination": {"name": f"{name}-out", "url": url},
    }
    made: dict[str, Any] = ok(caller.post("/connections", json=body))
    return made


def request_row(
    project: str, request_id: str, source_id: str, when: datetime, body: bytes, **values: Any
) -> dict[str, Any]:
    return {
        "id": request_id,
        "project_id": project,
        "source_id": source_id,
        "created_at": when,
        "method": "POST",
        "path": "",
        "query": "",
        "headers": {"content-type": "application/json"},
        "body": base64.b64encode(body).decode(),
        "body_size": len(body),
        "verified": None,
        "rejection_cause": "",
        "events_count": 1,
        "version": 1,
        **values,
    }


def project_of(tenants: Tenants, name: str) -> str:
    found = tenants.log.state.find("project", "", name)
    assert found is not None
    return str(found["id"])


def ids(response: httpx.Response) -> list[str]:
    return [m["id"] for m in ok(response)["models"]]


def test_event_lists_filter_like_hookdeck_s_and_stay_in_the_project(
    tenants: Tenants, settings: Settings
) -> None:
    a_project, b_project = project_of(tenants, "project-a"), project_of(tenants, "project-b")
    rows = [event_row(a_project, n) for n in range(12)]
    insert(settings, "events", rows + [event_row(b_project, n) for n in range(12)])
    a, b = tenants.a, tenants.b

    def expect(**test: Any) -> list[str]:
        kept = [r for r in rows if all(check(r) for check in test.values())]
        return [r["id"] for r in sorted(kept, key=lambda r: r["created_at"], reverse=True)]

    assert ids(a.get("/events", params={"status": "FAILED"})) == expect(
        s=lambda r: r["status"] == "FAILED"
    )
    assert ids(a.get("/events", params={"webhook_id": "web_odd", "response_status": "200"})) == (
        expect(c=lambda r: r["connection_id"] == "web_odd", s=lambda r: r["response_status"] == 200)
    )
    assert ids(a.get("/events", params={"attempts[gte]": "2"})) == expect(
        n=lambda r: r["attempts"] >= 2
    )
    assert ids(a.get("/events", params={"error_code": "BAD_RESPONSE"})) == expect(
        e=lambda r: r["error_code"] == "BAD_RESPONSE"
    )
    window = {"created_at[gte]": at(3).isoformat(), "created_at[lt]": at(6).isoformat()}
    assert ids(a.get("/events", params=window)) == expect(
        t=lambda r: at(3) <= r["created_at"] < at(6)
    )
    last = {"last_attempt_at[gt]": at(10).isoformat()}
    assert ids(a.get("/events", params=last)) == expect(t=lambda r: r["last_attempt_at"] > at(10))
    several = [("id", rows[1]["id"]), ("id", rows[4]["id"])]
    assert ids(a.get("/events", params=several)) == [rows[4]["id"], rows[1]["id"]]
    assert ids(a.get("/requests/req_1/events")) == expect(r=lambda r: r["request_id"] == "req_1")
    oldest_first = ids(a.get("/events", params={"dir": "asc", "source_id": "src_q"}))
    assert oldest_first == list(reversed(expect()))
    # Project B sees its own twelve and none of A's, whatever it asks.
    seen_by_b = ids(b.get("/events", params={"limit": "250"}))
    assert len(seen_by_b) == 12 and not set(seen_by_b) & {r["id"] for r in rows}
    refused(b.get(f"/events/{rows[0]['id']}"), 404, "NOT_FOUND")
    for params in [{"attempts[gte]": "x"}, {"created_at[gte]": "soon"}, {"order_by": "status"}]:
        refused(a.get("/events", params=params), 422, "UNPROCESSABLE_ENTITY")


UNICODE_BODY = '{"order": "Ünïcode-42"}'.encode()


def test_request_lists_filter_search_and_give_raw_bodies(
    tenants: Tenants, settings: Settings
) -> None:
    project = project_of(tenants, "project-a")

    def searched(n: int, body: bytes, headers: dict[str, str], **values: Any) -> dict[str, Any]:
        name, when = f"req_search_{n}", at(100 + n)
        return request_row(project, name, "src_search", when, body, headers=headers, **values)

    insert(
        settings,
        "requests",
        [
            searched(0, UNICODE_BODY, {"x-shop": "alpha"}, verified=True),
            searched(1, b'{"order": 7}', {"x-shop": "beta"}),
            searched(2, b"", {}, rejection_cause="VERIFICATION_FAILED", events_count=0),
        ],
    )
    base = {"source_id": "src_search"}
    assert ids(a_get(tenants, "/requests", {**base, "search_term": "ünïcode"})) == ["req_search_0"]
    assert ids(a_get(tenants, "/requests", {**base, "search_term": "BETA"})) == ["req_search_1"]
    assert ids(a_get(tenants, "/requests", {**base, "verified": "true"})) == ["req_search_0"]
    assert ids(a_get(tenants, "/requests", {**base, "status": "rejected"})) == ["req_search_2"]
    assert ids(a_get(tenants, "/requests", {**base, "status": "accepted"})) == [
        "req_search_1",
        "req_search_0",
    ]
    body = ok(tenants.a.get("/requests/req_search_0/raw_body"))["body"]
    assert body == '{"order": "Ünïcode-42"}'
    refused(tenants.b.get("/requests/req_search_0/raw_body"), 404, "NOT_FOUND")
    assert ids(tenants.b.get("/requests", params={**base, "search_term": "beta"})) == []
    data = ok(tenants.a.get("/requests/req_search_0"))["data"]
    assert data["body"] == {"order": "Ünïcode-42"} and data["headers"] == {"x-shop": "alpha"}

    # Events are searched in their request's body and headers; attempts in the answer.
    insert(
        settings,
        "events",
        [
            event_row(project, 9000 + n, request_id=f"req_search_{n}", source_id="src_search")
            for n in range(3)
        ],
    )
    assert ids(a_get(tenants, "/events", {**base, "search_term": "ÜNÏCODE"})) == [
        f"evt_{project[-4:]}_9000"
    ]
    assert ids(a_get(tenants, "/events", {**base, "search_term": "x-shop"})) == [
        f"evt_{project[-4:]}_9001",
        f"evt_{project[-4:]}_9000",
    ]
    assert ids(tenants.b.get("/events", params={**base, "search_term": "beta"})) == []
    answered = measured_attempt(project, 1, 0, True, 12, "des_search")
    answered |= {  # days before the hour the metrics and issue tests measure
        "created_at": RECENT - timedelta(days=2),
        "response_headers": {"x-why": "Overloaded"},
        "response_body": "try later",
    }
    insert(settings, "attempts", [answered])
    for term in ("TRY LATER", "overloaded"):
        found = ok(a_get(tenants, "/attempts", {"search_term": term}))["models"]
        assert [a["response_headers"] for a in found] == [{"x-why": "Overloaded"}]


def a_get(tenants: Tenants, path: str, params: dict[str, str]) -> httpx.Response:
    return tenants.a.get(path, params=params)


def test_pages_hold_still_while_rows_arrive(tenants: Tenants, settings: Settings) -> None:
    """Newer events and new versions of listed ones arrive between pages: the pages
    still list each of the original events exactly once, in order."""
    project = project_of(tenants, "project-a")
    original = [event_row(project, n, source_id="src_paging") for n in range(1000, 1030)]
    insert(settings, "events", original)
    seen: list[str] = []
    params = {"source_id": "src_paging", "limit": "7"}
    arrivals = 0
    while True:
        result = ok(tenants.a.get("/events", params=params))
        seen += [m["id"] for m in result["models"]]
        arrivals += 1
        insert(
            settings,
            "events",
            [
                event_row(project, 2000 + arrivals, source_id="src_paging"),  # newer
                {**original[arrivals], "status": "QUEUED", "version": 1 + arrivals},  # changed
            ],
        )
        if result["pagination"]["next"] is None:
            break
        params = {"source_id": "src_paging", "limit": "7", "next": result["pagination"]["next"]}
    expected = [r["id"] for r in sorted(original, key=lambda r: r["created_at"], reverse=True)]
    assert seen == expected
    previous = {"source_id": "src_paging", "limit": "7", "prev": result["pagination"]["prev"]}
    back = ok(tenants.a.get("/events", params=previous))
    assert [m["id"] for m in back["models"]] == expected[-9:-2]


def test_a_bulk_retry_plans_runs_and_never_touches_another_project(
    tenants: Tenants, settings: Settings
) -> None:
    made: dict[str, dict[str, Any]] = {}
    for name, caller in (("a", tenants.a), ("b", tenants.b)):
        made[name] = connected(caller, "bulk", "https://bulk.example")
    events, requests = [], []
    for name, connection in made.items():
        for n in range(5):
            request_id = f"req_bulk_{name}_{n}"
            events.append(
                event_row(
                    connection["team_id"],
                    3000 + n,
                    id=f"evt_bulk_{name}_{n}",
                    request_id=request_id,
                    connection_id=connection["id"],
                    source_id=connection["source"]["id"],
                    destination_id=connection["destination"]["id"],
                    status="FAILED",
                )
            )
            requests.append(
                request_row(
                    connection["team_id"],
                    request_id,
                    connection["source"]["id"],
                    at(3000 + n),
                    b'{"n": 1}',
                )
            )
    insert(settings, "events", events)
    insert(settings, "requests", requests)
    a, b = tenants.a, tenants.b
    # Both projects hold FAILED events of a connection named alike; A's filter is by status.
    plan = ok(
        a.get(
            "/bulk/events/retry/plan",
            params={"status": "FAILED", "source_id": made["a"]["source"]["id"]},
        )
    )
    assert plan["estimated_count"] == 5
    everything_b_has = {"status": "FAILED", "source_id": made["b"]["source"]["id"]}
    assert ok(a.get("/bulk/events/retry/plan", params=everything_b_has))["estimated_count"] == 0
    refused(
        a.post("/bulk/events/retry", json={"query": {"colour": "red"}}), 422, "UNPROCESSABLE_ENTITY"
    )

    job = ok(
        a.post(
            "/bulk/events/retry",
            json={"query": {"status": "FAILED", "webhook_id": made["a"]["id"]}},
        )
    )
    assert job["estimated_count"] == 5 and job["in_progress"] is True

    def finished() -> dict[str, Any] | None:
        current: dict[str, Any] = ok(a.get(f"/bulk/events/retry/{job['id']}"))
        return None if current["in_progress"] else current

    done = wait_until(finished)
    assert (done["completed_count"], done["failed_count"], done["progress"]) == (5, 0, 1.0)
    assert done["completed_at"] is not None
    refused(b.get(f"/bulk/events/retry/{job['id']}"), 404, "NOT_FOUND")
    refused(b.post(f"/bulk/events/retry/{job['id']}/cancel"), 404, "NOT_FOUND")
    assert job["id"] not in ids(b.get("/bulk/events/retry"))
    assert job["id"] in ids(a.get("/bulk/events/retry"))
    retried = [
        d for d in topic_records(settings, topics.DELIVERIES) if d["trigger"] == "BULK_RETRY"
    ]
    assert sorted(d["event_id"] for d in retried) == [f"evt_bulk_a_{n}" for n in range(5)]
    assert {d["project_id"] for d in retried} == {made["a"]["team_id"]}
    # Cancelling a finished one changes nothing; a running one stops with cancelled_at.
    assert ok(a.post(f"/bulk/events/retry/{job['id']}/cancel"))["cancelled_at"] is None
    again = ok(a.post("/bulk/events/retry", json={"query": {"webhook_id": made["a"]["id"]}}))
    cancelled = ok(a.post(f"/bulk/events/retry/{again['id']}/cancel"))
    assert cancelled["in_progress"] is False
    stopped = wait_until(lambda: ok(a.get(f"/bulk/events/retry/{again['id']}")))
    assert stopped["cancelled_at"] is not None and stopped["completed_at"] is None


def wait_until(check: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


def topic_records(settings: Settings, topic: str) -> list[dict[str, Any]]:
    """Every record of the logical ``topic`` so far, as JSON."""
    return topic_values(settings.kafka_bootstrap, topics.name(settings, topic))


def measured_attempt(
    project: str, n: int, minute: int, ok_: bool, ms: int, destination: str
) -> dict[str, Any]:
    """An attempt row for the metrics tests, ``minute`` minutes after RECENT."""
    return {
        "id": f"att_m_{project[-4:]}_{destination}_{n}",
        "project_id": project,
        "event_id": f"evt_m_{n}",
        "request_id": f"req_m_{n}",
        "connection_id": "web_m",
        "destination_id": destination,
        "created_at": RECENT + timedelta(minutes=minute),
        "attempt_number": 1,
        "trigger": "INITIAL",
        "status": "SUCCESSFUL" if ok_ else "FAILED",
        "response_status": 200 if ok_ else 500,
        "error_code": "" if ok_ else "BAD_RESPONSE",
        "response_headers": {},
        "response_body": "",
        "duration_ms": ms,
        "requested_url": "https://m.example",
        "http_method": "POST",
        "version": 1,
    }


def test_metrics_bucket_measure_and_split_within_the_project(
    tenants: Tenants, settings: Settings
) -> None:
    a_project, b_project = project_of(tenants, "project-a"), project_of(tenants, "project-b")

    rows = [
        measured_attempt(a_project, 0, 1, True, 10, "des_m1"),
        measured_attempt(a_project, 1, 2, True, 30, "des_m1"),
        measured_attempt(a_project, 2, 3, False, 50, "des_m2"),
        measured_attempt(a_project, 3, 7, True, 20, "des_m1"),  # the second 5-minute bucket
        measured_attempt(b_project, 4, 1, False, 999, "des_m1"),  # another project: never counted
    ]
    insert(settings, "attempts", rows)
    window = {
        "date_range[gte]": f"{HOUR}:00:00Z",
        "date_range[lte]": f"{HOUR}:59:59Z",
        "granularity": "5m",
    }
    measured = ok(
        tenants.a.get(
            "/metrics/attempts",
            params=[
                *window.items(),
                ("measures", "count"),
                ("measures", "error_rate"),
                ("measures", "response_latency_max"),
            ],
        )
    )
    assert measured == [
        {
            "time_bucket": f"{HOUR}:00:00.000Z",
            "dimensions": {},
            "metrics": {"count": 3, "error_rate": 0.3333, "response_latency_max": 50},
        },
        {
            "time_bucket": f"{HOUR}:05:00.000Z",
            "dimensions": {},
            "metrics": {"count": 1, "error_rate": 0, "response_latency_max": 20},
        },
    ]
    split = ok(
        tenants.a.get(
            "/metrics/attempts",
            params=[
                *window.items(),
                ("granularity", "1h"),
                ("dimensions", "destination_id"),
                ("measures", "count"),
            ],
        )
    )
    assert {(m["dimensions"]["destination_id"], m["metrics"]["count"]) for m in split} == {
        ("des_m1", 3),
        ("des_m2", 1),
    }
    for params in [
        {"measures": "speed"},
        {"dimensions": "colour"},
        {"granularity": "soon"},
        {"date_range[gte]": "2026-06-01T00:00:00Z", "date_range[lte]": "2026-05-01T00:00:00Z"},
        {"granularity": "1s", "date_range[gte]": "2020-01-01T00:00:00Z"},
    ]:
        refused(tenants.a.get("/metrics/attempts", params=params), 422, "UNPROCESSABLE_ENTITY")
    assert isinstance(ok(tenants.a.get("/metrics/queue-depth")), list)


def test_metrics_over_hours_join_the_hourly_rollup_and_the_edges(
    tenants: Tenants, settings: Settings
) -> None:
    """Whole hours come from ``attempts_hourly``, the partial first and last hours from
    the attempts: rows outside the range never count, rows inside always do."""
    a_project, b_project = project_of(tenants, "project-a"), project_of(tenants, "project-b")
    rows = [
        measured_attempt(a_project, 0, 10, True, 100, "des_h"),  # before the range
        measured_attempt(a_project, 1, 40, True, 200, "des_h"),
        measured_attempt(a_project, 2, 80, False, 1500, "des_h"),  # the whole hour
        measured_attempt(a_project, 3, 95, True, 300, "des_h"),
        measured_attempt(b_project, 4, 90, False, 999, "des_h"),  # another project
        measured_attempt(a_project, 5, 125, True, 400, "des_h"),
        measured_attempt(a_project, 6, 150, True, 999, "des_h"),  # after the range
    ]
    insert(settings, "attempts", rows)
    hour = timedelta(hours=1)
    params = [
        ("date_range[gte]", (RECENT + hour / 2).isoformat()),
        ("date_range[lte]", (RECENT + 2 * hour + hour / 6).isoformat()),
        ("granularity", "1h"),
        ("destination_id", "des_h"),
        *(("measures", m) for m in ("count", "failed_count", "response_latency_max")),
        *(("measures", m) for m in ("response_latency_avg", "response_latency_p50")),
    ]
    buckets = ok(tenants.a.get("/metrics/attempts", params=params))
    assert [(b["time_bucket"], b["metrics"]) for b in buckets] == [
        (
            shapes.iso(RECENT),
            {"count": 1, "failed_count": 0, "response_latency_max": 200}
            | {"response_latency_avg": 200, "response_latency_p50": 200},
        ),
        (
            shapes.iso(RECENT + hour),
            {"count": 2, "failed_count": 1, "response_latency_max": 1500}
            | {"response_latency_avg": 900, "response_latency_p50": 1500},  # the upper of two
        ),
        (
            shapes.iso(RECENT + 2 * hour),
            {"count": 1, "failed_count": 0, "response_latency_max": 400}
            | {"response_latency_avg": 400, "response_latency_p50": 400},
        ),
    ]


def failed_attempt(project: str, n: int, connection: str, when: datetime) -> dict[str, Any]:
    return {
        "id": f"att_issue_{project[-4:]}_{n}",
        "project_id": project,
        "event_id": f"evt_issue_{n}",
        "request_id": f"req_issue_{n}",
        "connection_id": connection,
        "destination_id": "des_issue",
        "created_at": when,
        "attempt_number": 1,
        "trigger": "INITIAL",
        "status": "FAILED",
        "response_status": 503,
        "error_code": "BAD_RESPONSE",
        "response_headers": {},
        "response_body": "",
        "duration_ms": 5,
        "requested_url": "https://issue.example",
        "http_method": "POST",
        "version": 1,
    }


def test_issues_aggregate_failures_and_keep_their_status(
    tenants: Tenants, settings: Settings
) -> None:
    a_project, b_project = project_of(tenants, "project-a"), project_of(tenants, "project-b")
    insert(
        settings,
        "attempts",
        [
            failed_attempt(a_project, 1, "web_issue_1", at(5000)),
            failed_attempt(a_project, 2, "web_issue_1", at(5001)),
            failed_attempt(a_project, 3, "web_issue_2", at(5002)),
            failed_attempt(b_project, 4, "web_issue_1", at(5003)),
        ],
    )
    a, b = tenants.a, tenants.b
    listed = ok(a.get("/issues", params={"webhook_id": "web_issue_1"}))["models"]
    assert len(listed) == 1
    issue = listed[0]
    assert (issue["type"], issue["status"], issue["failures"]) == ("delivery", "OPENED", 2)
    assert issue["aggregation_keys"] == {
        "webhook_id": ["web_issue_1"],
        "response_status": [503],
        "error_code": [],  # Hookdeck tells a non-2xx answer by its status alone
        "error_detail": ["BAD_RESPONSE"],
    }
    assert issue["reference"]["attempt_id"] == f"att_issue_{a_project[-4:]}_2"
    assert ok(a.get("/issues/count", params={"status": "OPENED", "webhook_id": "web_issue_1"})) == {
        "count": 1
    }
    refused(b.get(f"/issues/{issue['id']}"), 404, "NOT_FOUND")  # B's failures are B's issue
    assert issue["id"] not in ids(b.get("/issues"))
    refused(a.put(f"/issues/{issue['id']}", json={"status": "FIXED"}), 422, "UNPROCESSABLE_ENTITY")
    assert (
        ok(a.put(f"/issues/{issue['id']}", json={"status": "ACKNOWLEDGED"}))["status"]
        == "ACKNOWLEDGED"
    )
    assert ok(a.put(f"/issues/{issue['id']}", json={"status": "RESOLVED"}))["status"] == "RESOLVED"
    insert(
        settings,
        "attempts",
        [failed_attempt(a_project, 5, "web_issue_1", datetime.now(UTC) + timedelta(seconds=5))],
    )
    reopened = ok(a.get(f"/issues/{issue['id']}"))
    assert (reopened["status"], reopened["failures"]) == ("OPENED", 3)  # it broke again
    other = ok(a.get("/issues", params={"webhook_id": "web_issue_2"}))["models"][0]
    assert ok(a.delete(f"/issues/{other['id']}"))["dismissed_at"] is not None
    assert other["id"] not in ids(a.get("/issues"))  # hidden until it fails again


def test_error_codes_answer_from_hookdeck_s_list_with_the_precise_one_beside(
    tenants: Tenants, settings: Settings
) -> None:
    """A non-2xx answer and an address the SSRF guard refused, stored as the deliverer
    stores them, answer as Hookdeck's SDK accepts (``error_code``) and as hookhouse
    knows them (``error_detail``); filters take either name."""
    project = project_of(tenants, "project-a")
    answered = {**failed_attempt(project, 21, "web_codes", at(5200)), "id": "att_codes_500"}
    blocked = {
        **failed_attempt(project, 22, "web_codes", at(5201)),
        "id": "att_codes_ssrf",
        "response_status": None,
        "error_code": "SSRF_BLOCKED",
        "response_body": "10.0.0.1 is not an allowed address for outbound requests",
    }
    insert(settings, "attempts", [answered, blocked])
    codes = {"connection_id": "web_codes", "status": "FAILED", "last_attempt_at": at(5201)}
    insert(
        settings,
        "events",
        [
            event_row(project, 9101, **codes, response_status=503, error_code="BAD_RESPONSE"),
            event_row(project, 9102, **codes, response_status=None, error_code="SSRF_BLOCKED"),
        ],
    )
    a = tenants.a
    listed = ok(a.get("/events", params={"webhook_id": "web_codes"}))["models"]
    refused_, bad = listed  # newest first
    assert (bad["response_status"], bad["error_code"], bad["error_detail"]) == (
        503,
        None,
        "BAD_RESPONSE",
    )
    assert (refused_["error_code"], refused_["error_detail"]) == (
        "HOST_UNREACHABLE",
        "SSRF_BLOCKED",
    )
    attempt = ok(a.get("/attempts/att_codes_ssrf"))
    assert (attempt["error_code"], attempt["error_detail"]) == ("HOST_UNREACHABLE", "SSRF_BLOCKED")
    attempt = ok(a.get("/attempts/att_codes_500"))
    assert (attempt["error_code"], attempt["error_detail"]) == (None, "BAD_RESPONSE")
    # Hookdeck's name finds the failures answered as it; hookhouse's, only its own.
    by_hookdeck = {"webhook_id": "web_codes", "error_code": "HOST_UNREACHABLE"}
    assert ids(a.get("/events", params=by_hookdeck)) == [refused_["id"]]
    by_hookhouse = {"webhook_id": "web_codes", "error_code": "BAD_RESPONSE"}
    assert ids(a.get("/events", params=by_hookhouse)) == [bad["id"]]
    listed = ok(
        a.get("/attempts", params={"event_id": "evt_issue_22", "error_code": "SSRF_BLOCKED"})
    )
    assert [m["id"] for m in listed["models"]] == ["att_codes_ssrf"]
    issues = ok(a.get("/issues", params={"webhook_id": "web_codes"}))["models"]
    keys = sorted(
        (i["aggregation_keys"]["error_code"], i["aggregation_keys"]["error_detail"]) for i in issues
    )
    assert keys == [([], ["BAD_RESPONSE"]), (["HOST_UNREACHABLE"], ["SSRF_BLOCKED"])]
    refused(a.get("/events", params={"error_code": "SSRF"}), 422, "UNPROCESSABLE_ENTITY")


def test_executions_answer_the_data_ids_of_their_request_and_event(
    tenants: Tenants, settings: Settings
) -> None:
    project = project_of(tenants, "project-a")

    def run(n: int, event_id: str, status: str) -> dict[str, Any]:
        return {
            "id": f"exe_ids_{n}",
            "project_id": project,
            "transformation_id": "trs_ids",
            "connection_id": "web_ids",
            "request_id": f"req_ids_{n}",
            "status": status,
            "error": "" if status == "SUCCESSFUL" else "TypeError: nope",
            "logs": "[]",
            "duration_ms": 1,
            "created_at": at(5300 + n),
            "version": 1,
            "event_id": event_id,
        }

    insert(
        settings,
        "transformation_executions",
        [run(1, "evt_ids_1", "SUCCESSFUL"), run(2, "", "FAILED")],
    )
    a = tenants.a
    made = ok(a.get("/transformations/trs_ids/executions/exe_ids_1"))
    assert (
        made["original_event_data_id"],
        made["transformed_event_data_id"],
        made["event_id"],
    ) == ("req_ids_1", "evt_ids_1", "evt_ids_1")
    listed = ok(a.get("/transformations/trs_ids/executions"))["models"]
    failed = next(m for m in listed if m["id"] == "exe_ids_2")
    assert (
        failed["original_event_data_id"],
        failed["transformed_event_data_id"],
        failed["event_id"],
    ) == ("req_ids_2", "req_ids_2", None)  # no output kept: the request's data
    refused(tenants.b.get("/transformations/trs_ids/executions/exe_ids_1"), 404, "NOT_FOUND")


def test_events_failed_for_good_and_backlogged_destinations_are_issues_too(
    tenants: Tenants, settings: Settings
) -> None:
    a_project = project_of(tenants, "project-a")
    waited = (datetime.now(UTC) - timedelta(minutes=10)).replace(tzinfo=None)
    insert(settings, "attempts", [failed_attempt(a_project, 11, "web_final", at(5100))])
    failed = {"connection_id": "web_final", "status": "FAILED", "error_code": "BAD_RESPONSE"}
    backlog = {"destination_id": "des_slow", "status": "QUEUED", "created_at": waited}
    insert(
        settings,
        "events",
        [
            event_row(a_project, 9001, **failed, response_status=503, last_attempt_at=at(5100)),
            *(event_row(a_project, 9002 + n, **backlog, attempts=0) for n in range(3)),
        ],
    )
    a = tenants.a
    (delivery,) = ok(a.get("/issues", params={"webhook_id": "web_final"}))["models"]
    assert (delivery["failed_events"], delivery["last_failed_event_at"]) == (
        1,
        shapes.iso(at(5100)),
    )

    def backlogged() -> list[dict[str, Any]]:
        listed = ok(a.get("/issues", params={"type": "backpressure"}))["models"]
        return [i for i in listed if i["aggregation_keys"] == {"destination_id": ["des_slow"]}]

    slow = backlogged()
    assert [i["backlog"]["depth"] for i in slow] == [3]
    assert slow[0]["backlog"]["delay_ms"] >= 600_000
    assert ok(a.get(f"/issues/{slow[0]['id']}"))["status"] == "OPENED"
    assert slow[0]["id"] not in ids(tenants.b.get("/issues"))
    hour = {"delay": 3_600_000, "destinations": ["des_slow"]}
    made = ok(a.post("/issue-triggers", json={"type": "backpressure", "configs": hour}))
    assert backlogged() == []  # an hour's delay is this destination's threshold now
    ok(a.delete(f"/issue-triggers/{made['id']}"))


def test_keys_blocked_behind_a_failed_event_show_on_events_and_as_an_issue(
    tenants: Tenants, settings: Settings
) -> None:
    a_project = project_of(tenants, "project-a")
    waited = (datetime.now(UTC) - timedelta(minutes=10)).replace(tzinfo=None)
    behind = {
        "connection_id": "web_ordered",
        "destination_id": "des_ordered",
        "status": "HOLD",
        "created_at": waited,
        "attempts": 0,
        "last_attempt_at": None,
        "response_status": None,
        "error_code": "",
    }
    head = event_row(
        a_project, 9101, connection_id="web_ordered", status="SCHEDULED", waiting_for=""
    )
    insert(
        settings,
        "events",
        [
            head,
            *(event_row(a_project, 9102 + n, **behind, waiting_for=head["id"]) for n in range(2)),
            event_row(a_project, 9110, **behind, waiting_for="evt_other_head"),
        ],
    )
    a = tenants.a
    waiting = ok(a.get("/events", params={"waiting_for": head["id"]}))["models"]
    assert sorted(e["id"] for e in waiting) == [f"evt_{a_project[-4:]}_{9102 + n}" for n in (0, 1)]
    assert {(e["status"], e["waiting_for"]) for e in waiting} == {("HOLD", head["id"])}
    (listed_head,) = ok(a.get("/events", params={"id": head["id"]}))["models"]
    assert listed_head["waiting_for"] is None

    def blocked() -> list[dict[str, Any]]:
        listed = ok(a.get("/issues", params={"webhook_id": "web_ordered"}))["models"]
        return [i for i in listed if "blocked_keys" in i]

    (issue,) = blocked()
    assert issue["type"] == "backpressure" and issue["status"] == "OPENED"
    assert issue["aggregation_keys"] == {
        "destination_id": ["des_ordered"],
        "webhook_id": ["web_ordered"],
    }
    assert issue["blocked_keys"]["keys"] == 2 and issue["backlog"]["depth"] == 3
    assert issue["backlog"]["delay_ms"] >= 600_000
    assert issue["id"] not in ids(tenants.b.get("/issues"))
    assert ok(tenants.b.get("/events", params={"waiting_for": head["id"]}))["models"] == []
    hour = {"delay": 3_600_000, "destinations": ["des_ordered"]}
    made = ok(a.post("/issue-triggers", json={"type": "backpressure", "configs": hour}))
    assert blocked() == []  # the backpressure trigger's delay is the threshold
    ok(a.delete(f"/issue-triggers/{made['id']}"))


def test_a_request_retried_routes_again_through_chosen_connections(
    tenants: Tenants, settings: Settings
) -> None:
    a, b = tenants.a, tenants.b
    kept = ok(
        a.post(
            "/connections",
            json={
                "name": "replay-kept",
                "source": {"name": "replay-in"},
                "destination": {"name": "replay-out", "url": "https://replay.example"},
                "rules": [
                    {
                        "type": "transform",
                        "transformation": {
                            "name": "replay-tag",
                            "code": "addHandler('transform', (r) => "
                            "({...r, headers: {...r.headers, 'x-replayed': 'yes'}}))",
                        },
                    }
                ],
            },
        )
    )
    source_id = kept["source"]["id"]
    filtered = ok(
        a.post(
            "/connections",
            json={
                "name": "replay-filtered",
                "source_id": source_id,
                "destination_id": kept["destination"]["id"],
                "rules": [{"type": "filter", "body": {"kind": "never"}}],
            },
        )
    )
    project = kept["team_id"]
    insert(
        settings,
        "requests",
        [request_row(project, "req_replay_1", source_id, at(6000), b'{"kind": "order"}')],
    )
    retried = ok(a.post("/requests/req_replay_1/retry", json={}))
    assert retried["request"]["events_count"] == 2 and retried["request"]["ignored_count"] == 1
    (event,) = retried["events"]
    assert (event["webhook_id"], event["status"]) == (kept["id"], "QUEUED")
    only_filtered = ok(
        a.post("/requests/req_replay_1/retry", json={"webhook_ids": [filtered["id"]]})
    )
    assert only_filtered["events"] == []

    deliveries = [
        d for d in topic_records(settings, topics.DELIVERIES) if d["request_id"] == "req_replay_1"
    ]
    assert [(d["event_id"], d["trigger"]) for d in deliveries] == [(event["id"], "MANUAL")]
    assert deliveries[0]["headers"]["x-replayed"] == "yes"
    rows = [
        r for r in topic_records(settings, topics.RECORDS) if r.get("request_id") == "req_replay_1"
    ]
    causes = sorted(r["cause"] for r in rows if "cause" in r)
    assert causes == ["FILTERED", "FILTERED"]  # one new ignored event per retry

    refused(b.post("/requests/req_replay_1/retry", json={}), 404, "NOT_FOUND")
    b_connection = connected(b, "replay-b", "https://replay.example")
    refused(
        a.post("/requests/req_replay_1/retry", json={"webhook_ids": [b_connection["id"]]}),
        422,
        "UNPROCESSABLE_ENTITY",
    )
    refused(
        a.post("/requests/req_replay_1/retry", json={"webhook_ids": "x"}),
        422,
        "UNPROCESSABLE_ENTITY",
    )


def test_a_bookmark_saves_a_request_for_a_connection_and_replays_it(
    tenants: Tenants, settings: Settings
) -> None:
    a, b = tenants.a, tenants.b
    connection = connected(a, "marked", "https://marked.example")
    source_id = connection["source"]["id"]
    stored = request_row(connection["team_id"], "req_marked", source_id, at(6100), b'{"m": 1}')
    insert(settings, "requests", [stored])
    fields = {"webhook_id": connection["id"], "event_data_id": "req_marked", "label": "A sample"}
    mark = ok(a.post("/bookmarks", json={**fields, "name": "sample"}))
    assert (mark["label"], mark["name"], mark["last_used_at"]) == ("A sample", "sample", None)
    refused(a.post("/bookmarks", json={**fields, "name": "sample"}), 422, "NAME_TAKEN")
    refused(
        a.post("/bookmarks", json={**fields, "event_data_id": "req_nowhere"}),
        422,
        "UNPROCESSABLE_ENTITY",
    )
    refused(b.post("/bookmarks", json=fields), 404, "NOT_FOUND")  # A's connection
    assert ids(a.get("/bookmarks", params={"webhook_id": connection["id"]})) == [mark["id"]]
    assert ids(a.get("/bookmarks", params={"label": "other"})) == []
    assert ok(a.put(f"/bookmarks/{mark['id']}", json={"label": "Renamed"}))["label"] == "Renamed"
    assert ok(a.get(f"/bookmarks/{mark['id']}/raw_body")) == {"body": '{"m": 1}'}

    (event,) = ok(a.post(f"/bookmarks/{mark['id']}/trigger", json={"target": "http"}))
    assert event["webhook_id"] == connection["id"] and event["request_id"] == "req_marked"
    assert ok(a.get(f"/bookmarks/{mark['id']}"))["last_used_at"] is not None
    sent = [d for d in topic_records(settings, topics.DELIVERIES) if d["event_id"] == event["id"]]
    assert [(d["trigger"], d["body"]) for d in sent] == [("MANUAL", stored["body"])]
    refused(
        a.post(f"/bookmarks/{mark['id']}/trigger", json={"target": "cli"}),
        422,
        "UNPROCESSABLE_ENTITY",
    )

    for denied in (
        b.get(f"/bookmarks/{mark['id']}"),
        b.get(f"/bookmarks/{mark['id']}/raw_body"),
        b.post(f"/bookmarks/{mark['id']}/trigger"),
        b.delete(f"/bookmarks/{mark['id']}"),
    ):
        refused(denied, 404, "NOT_FOUND")
    assert ok(a.delete(f"/bookmarks/{mark['id']}")) == {"id": mark["id"]}
    refused(a.get(f"/bookmarks/{mark['id']}"), 404, "NOT_FOUND")


def test_muting_an_event_cancels_what_is_pending_until_retried_by_hand(
    tenants: Tenants, settings: Settings
) -> None:
    a, b = tenants.a, tenants.b
    connection = connected(a, "muted", "https://muted.example")
    project, where = (
        connection["team_id"],
        {
            "connection_id": connection["id"],
            "source_id": connection["source"]["id"],
            "destination_id": connection["destination"]["id"],
            "request_id": "req_muted",
        },
    )
    insert(
        settings,
        "events",
        [
            event_row(project, 7000, id="evt_mute_pending", status="QUEUED", **where),
            event_row(project, 7001, id="evt_mute_done", status="SUCCESSFUL", **where),
        ],
    )
    insert(
        settings,
        "requests",
        [request_row(project, "req_muted", where["source_id"], at(7000), b"{}")],
    )
    refused(b.put("/events/evt_mute_pending/mute"), 404, "NOT_FOUND")
    muted = ok(a.put("/events/evt_mute_pending/mute"))
    assert (muted["status"], muted["error_code"], muted["next_attempt_at"]) == (
        "FAILED",
        "CANCELLED",
        None,
    )
    assert tenants.log.state.get("muted_event", "evt_mute_pending") is not None
    rows = [r for r in topic_records(settings, topics.RECORDS) if r["id"] == "evt_mute_pending"]
    assert rows[-1]["status"] == "FAILED" and rows[-1]["error_code"] == "CANCELLED"
    assert ok(a.put("/events/evt_mute_done/cancel"))["status"] == "SUCCESSFUL"  # nothing to do
    assert tenants.log.state.get("muted_event", "evt_mute_done") is None

    ok(a.post("/events/evt_mute_pending/retry"))
    wait_until(lambda: tenants.log.state.get("muted_event", "evt_mute_pending") is None)


def test_bulk_retries_of_requests_and_ignored_events_route_again_in_the_project(
    tenants: Tenants, settings: Settings
) -> None:
    made = {
        name: connected(caller, "bulk-replay", "https://b.example")
        for name, caller in (("a", tenants.a), ("b", tenants.b))
    }
    requests, ignored = [], []
    for name, connection in made.items():
        project, source_id = connection["team_id"], connection["source"]["id"]
        for n in range(3):
            request_id = f"req_bulk_replay_{name}_{n}"
            requests.append(request_row(project, request_id, source_id, at(8000 + n), b"{}"))
            ignored.append(
                {
                    "id": f"ign_bulk_{name}_{n}",
                    "project_id": project,
                    "request_id": request_id,
                    "source_id": source_id,
                    "connection_id": connection["id"],
                    "cause": "FILTERED" if n else "TRANSFORMATION_FAILED",
                    "meta": "{}",
                    "created_at": at(8000 + n),
                    "version": 1,
                }
            )
    insert(settings, "requests", requests)
    insert(settings, "ignored_events", ignored)
    a, b = tenants.a, tenants.b
    a_source = made["a"]["source"]["id"]
    plan = ok(a.get("/bulk/requests/retry/plan", params={"source_id": a_source}))
    assert plan["estimated_count"] == 3
    refused(
        a.post("/bulk/ignored-events/retry", json={"query": {"status": "FAILED"}}),
        422,
        "UNPROCESSABLE_ENTITY",
    )

    def finished(path: str, job_id: str) -> dict[str, Any] | None:
        current: dict[str, Any] = ok(a.get(f"{path}/{job_id}"))
        return None if current["in_progress"] else current

    by_request = ok(a.post("/bulk/requests/retry", json={"query": {"source_id": a_source}}))
    by_cause = ok(
        a.post(
            "/bulk/ignored-events/retry",
            json={"query": {"cause": "FILTERED", "webhook_id": made["a"]["id"]}},
        )
    )
    assert (by_request["type"], by_cause["type"]) == ("requests", "ignored_events")
    done = wait_until(lambda: finished("/bulk/requests/retry", by_request["id"]))
    assert (done["completed_count"], done["failed_count"]) == (3, 0)
    done = wait_until(lambda: finished("/bulk/ignored-events/retry", by_cause["id"]))
    assert (done["completed_count"], done["failed_count"]) == (2, 0)
    # A job is only under its own type's path, and only for its project.
    refused(a.get(f"/bulk/events/retry/{by_request['id']}"), 404, "NOT_FOUND")
    refused(b.get(f"/bulk/requests/retry/{by_request['id']}"), 404, "NOT_FOUND")
    assert by_cause["id"] in ids(a.get("/bulk/ignored-events/retry"))
    assert by_cause["id"] not in ids(a.get("/bulk/requests/retry"))

    replayed = [
        d
        for d in topic_records(settings, topics.DELIVERIES)
        if d["request_id"].startswith("req_bulk_replay_")
    ]
    assert {d["trigger"] for d in replayed} == {"BULK_RETRY"}
    assert {d["project_id"] for d in replayed} == {made["a"]["team_id"]}
    # Three requests routed again, and the two FILTERED ignored events' requests.
    assert sorted(d["request_id"][-1] for d in replayed) == ["0", "1", "1", "2", "2"]


def test_an_opened_issue_is_notified_once_through_the_chosen_source(
    tenants: Tenants, settings: Settings
) -> None:
    a, b = tenants.a, tenants.b
    alerts = connected(a, "alerts", "https://alerts.example")
    source_id, project = alerts["source"]["id"], alerts["team_id"]
    refused(
        a.put("/notifications/webhooks", json={"enabled": True, "topics": ["event.successful"]}),
        422,
        "UNPROCESSABLE_ENTITY",
    )
    refused(
        b.put("/notifications/webhooks", json={"enabled": True, "source_id": source_id}),
        422,
        "UNPROCESSABLE_ENTITY",
    )  # A's source
    wanted = {"enabled": True, "topics": ["issue.opened", "issue.updated"], "source_id": source_id}
    assert ok(a.put("/notifications/webhooks", json=wanted)) == wanted
    assert ok(a.get("/notifications/webhooks")) == wanted
    insert(
        settings,
        "attempts",
        [failed_attempt(project, 90, "web_notify", datetime.now(UTC) - timedelta(seconds=1))],
    )

    def notices(topic: str) -> list[dict[str, Any]]:
        found = []
        for record in topic_records(settings, topics.REQUESTS):
            if record["source_id"] != source_id:
                continue
            body = orjson.loads(base64.b64decode(record["body"]))
            keys = body["issue"]["aggregation_keys"]
            if body["topic"] == topic and keys.get("webhook_id") == ["web_notify"]:
                found.append(body)
        return found

    (opened,) = wait_until(lambda: notices("issue.opened"), timeout=45)
    assert opened["issue"]["status"] == "OPENED" and opened["issue"]["team_id"] == project
    issue_id = opened["issue"]["id"]
    assert tenants.log.state.get("issue_notice", issue_id) is not None
    ok(a.put(f"/issues/{issue_id}", json={"status": "ACKNOWLEDGED"}))
    (updated,) = wait_until(lambda: notices("issue.updated"))
    assert updated["issue"]["status"] == "ACKNOWLEDGED"
    assert len(notices("issue.opened")) == 1
