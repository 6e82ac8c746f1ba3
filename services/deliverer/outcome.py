"""What a destination receives and what an attempt's result means; pure functions."""

from __future__ import annotations

from dataclasses import dataclass

from hookhouse.common.records import Delivery

# Headers that describe the inbound hop, not the payload; never forwarded.
HOP_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "upgrade",
        "proxy-authorization",
        "proxy-connection",
        "accept-encoding",
        "expect",
    }
)


@dataclass(frozen=True)
class Outcome:
    status: str  # SUCCESSFUL or FAILED
    error_code: str  # "" when successful


def outbound_headers(
    delivery: Delivery,
    prefix: str,
    names: dict[str, str] | None = None,
    will_retry_after: float | None = None,
    dashboard_url: str = "",
) -> dict[str, str]:
    """The request's headers as received, minus hop headers, plus delivery headers.

    ``names`` adds ``<prefix>source-name`` and the like; ``will_retry_after`` is the
    delay before the next automatic retry should this attempt fail; ``dashboard_url``
    adds ``<prefix>event-url``, the event's page in the web console.
    """
    headers = {k: v for k, v in delivery.headers.items() if k.lower() not in HOP_HEADERS}
    headers.update(
        {
            f"{prefix}event-id": delivery.event_id,
            f"{prefix}request-id": delivery.request_id,
            f"{prefix}source-id": delivery.source_id,
            f"{prefix}connection-id": delivery.connection_id,
            f"{prefix}destination-id": delivery.destination_id,
            f"{prefix}attempt-count": str(delivery.attempt),
            f"{prefix}attempt-trigger": delivery.trigger,
            f"{prefix}original-received-at": delivery.received_at,
            "idempotency-key": delivery.event_id,
        }
    )
    for kind, name in (names or {}).items():
        headers[f"{prefix}{kind}-name"] = name
    if delivery.verified is not None:
        headers[f"{prefix}verified"] = "true" if delivery.verified else "false"
    if will_retry_after is not None:
        headers[f"{prefix}will-retry-after"] = str(round(will_retry_after))
    if dashboard_url:
        headers[f"{prefix}event-url"] = f"{dashboard_url}/#/events/{delivery.event_id}"
    return headers


def classify(response_status: int | None, error_code: str) -> Outcome:
    """2xx is success; anything else (an error code, or a non-2xx answer) is a failure."""
    if error_code:
        return Outcome("FAILED", error_code)
    if response_status is not None and 200 <= response_status < 300:
        return Outcome("SUCCESSFUL", "")
    return Outcome("FAILED", "BAD_RESPONSE")
