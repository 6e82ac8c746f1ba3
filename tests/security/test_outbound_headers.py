"""Hardening class 6 (deliverer part): a provider cannot supply the headers the gateway
sets (its own and the Hookdeck-compatible ones), nor hop-by-hop headers, nor those its
``Connection`` header names; in any letter case."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from hookhouse.common.domain.attempt import forwarded_headers, outbound_headers
from hookhouse.common.domain.records import Delivery

PREFIX = "x-hookhouse-"
DELIVERY = Delivery(
    event_id="evt_1",
    project_id="tm_1",
    request_id="req_1",
    source_id="src_1",
    connection_id="web_1",
    destination_id="des_1",
    created_at="2026-11-23T13:00:00.000Z",
    received_at="2026-11-23T13:00:00.000Z",
    method="POST",
    path="",
    query="",
    headers={},
    body="e30=",
)
SPOOFED = {
    "X-Hookhouse-Verified": "true",
    "x-hookhouse-signature": "forged",
    "x-hookhouse-will-retry-after": "1",
    "X-HOOKHOUSE-EVENT-URL": "https://evil.example",
    "x-hookhouse-whatever": "1",
    "x-hookdeck-signature": "forged",
    "X-Hookdeck-Verified": "true",
    "Idempotency-Key": "forged",
    "Connection": "keep-alive, X-Hop-Only",
    "x-hop-only": "secret",
    "Keep-Alive": "timeout=5",
    "TE": "trailers",
    "Trailer": "x",
    "Upgrade": "h2c",
    "Proxy-Authorization": "Basic eA==",
    "Transfer-Encoding": "chunked",
    "Host": "internal",
    "Content-Length": "2",
    "content-type": "application/json",
    "Stripe-Signature": "t=1,v1=kept",
    "x-hookhouse-topic": "issue.opened",
}


def test_spoofed_gateway_and_hop_headers_are_dropped() -> None:
    kept = forwarded_headers(SPOOFED, PREFIX)
    assert kept == {
        "content-type": "application/json",
        "Stripe-Signature": "t=1,v1=kept",
        "x-hookhouse-topic": "issue.opened",  # hookhouse's own notices carry it
    }


def test_a_configured_prefix_is_reserved_beside_both_known_ones() -> None:
    received = {"X-Acme-Verified": "true", "x-hookdeck-a": "1", "x-acme-topic": "t"}
    assert forwarded_headers(received, "x-acme-") == {}


def test_the_gateways_values_are_the_only_ones_sent() -> None:
    delivery = replace(DELIVERY, headers=SPOOFED, verified=None)
    auth = {"x-hookhouse-signature": "real", "Authorization": "Bearer real"}
    sent = outbound_headers(delivery, PREFIX, None, None, "", auth)
    lowered = {name.lower(): value for name, value in sent.items()}
    assert len(lowered) == len(sent)  # no name twice in different case
    assert lowered["x-hookhouse-signature"] == "real"
    assert lowered["idempotency-key"] == "evt_1"
    assert lowered["authorization"] == "Bearer real"
    assert "x-hookhouse-verified" not in lowered  # unknown: absent, not the provider's
    assert "x-hookhouse-will-retry-after" not in lowered and "x-hop-only" not in lowered
    assert not any(name.startswith("x-hookdeck-") for name in lowered)


def test_a_providers_auth_header_is_replaced_whatever_its_case() -> None:
    delivery = replace(DELIVERY, headers={"X-Api-Key": "provider's", "Webhook-Id": "theirs"})
    sent = outbound_headers(delivery, PREFIX, credentials={"x-api-key": "destination's"})
    assert [v for k, v in sent.items() if k.lower() == "x-api-key"] == ["destination's"]
    assert sent["Webhook-Id"] == "theirs"  # not signed by hookhouse: the provider's passes


NAMES = st.sampled_from(
    [
        "x-hookhouse-verified",
        "x-hookhouse-signature",
        "x-hookhouse-event-id",
        "x-hookhouse-will-retry-after",
        "x-hookdeck-signature",
        "idempotency-key",
        "connection",
        "keep-alive",
        "authorization",
        "content-type",
        "x-custom",
    ]
)
# Each name in some letter case: which letters are upper is a bit mask.
CASED = st.builds(
    lambda name, mask: "".join(c.upper() if mask >> i & 1 else c for i, c in enumerate(name)),
    NAMES,
    st.integers(0, 2**30),
)


@given(st.dictionaries(CASED | st.text(max_size=8), st.text(max_size=8), max_size=12))
def test_no_provider_header_under_a_reserved_prefix_reaches_a_destination(
    received: dict[str, str],
) -> None:
    delivery = replace(DELIVERY, headers=received, verified=True)
    auth = {"authorization": "Bearer real"}
    sent = outbound_headers(delivery, PREFIX, {"source": "s"}, 30.0, "http://h", auth)
    ours = outbound_headers(
        replace(delivery, headers={}), PREFIX, {"source": "s"}, 30.0, "http://h", auth
    )
    lowered = [name.lower() for name in sent]
    for name in ours:  # what the gateway sets is there once, with its value
        assert lowered.count(name) == 1 and sent[name] == ours[name]
    for key in lowered:
        assert not key.startswith(("x-hookhouse-", "x-hookdeck-")) or key in ours
        assert key not in ("connection", "keep-alive", "host", "transfer-encoding")
