from __future__ import annotations

from hookhouse.common.domain.attempt import outbound_headers
from hookhouse.common.domain.records import Delivery
from hookhouse.common.domain.target import target


def delivery() -> Delivery:
    return Delivery(
        event_id="evt_1",
        project_id="tm_1",
        request_id="req_1",
        source_id="src_1",
        connection_id="web_1",
        destination_id="des_1",
        created_at="2026-11-23T13:00:00.000Z",
        received_at="2026-11-23T13:00:00.000Z",
        method="POST",
        path="/a",
        query="",
        headers={
            "content-type": "application/json",
            "host": "ingest",
            "content-length": "7",
            "x-custom": "kept",
        },
        body="e30=",
    )


def test_target_url_forwards_path_and_query() -> None:
    assert (
        target("https://d.example/hooks", "/orders", "a=1").url
        == "https://d.example/hooks/orders?a=1"
    )
    assert (
        target("https://d.example/hooks/?k=v", "/o", "a=1").url
        == "https://d.example/hooks/o?k=v&a=1"
    )
    assert target("https://d.example", "", "").url == "https://d.example/"
    assert target("https://d.example/h", "/o", "", forward_path=False).url == "https://d.example/h"


def test_outbound_headers_keep_payload_headers_and_add_delivery_headers() -> None:
    headers = outbound_headers(delivery(), "x-hookhouse-")
    assert "host" not in headers and "content-length" not in headers
    assert headers["x-custom"] == "kept"
    assert headers["content-type"] == "application/json"
    assert headers["x-hookhouse-event-id"] == "evt_1"
    assert headers["x-hookhouse-attempt-count"] == "1"
    assert headers["idempotency-key"] == "evt_1"


def test_hookdeck_prefix_for_drop_in_migrations() -> None:
    assert "x-hookdeck-event-id" in outbound_headers(delivery(), "x-hookdeck-")


def test_the_event_url_links_to_the_events_page_in_the_dashboard() -> None:
    headers = outbound_headers(delivery(), "x-hookdeck-", dashboard_url="http://h:1/dashboard")
    assert headers["x-hookdeck-event-url"] == "http://h:1/dashboard/#/events/evt_1"
    assert "x-hookhouse-event-url" not in outbound_headers(delivery(), "x-hookhouse-")
