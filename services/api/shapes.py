"""Hookdeck's response shapes (API 2024-03-01) built from hookhouse's stored data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from hookhouse.common.domain.config import ConfigState
from hookhouse.common.domain.custom_domains import public_base
from hookhouse.common.domain.error_codes import hookdeck_code
from hookhouse.common.domain.message import Message
from hookhouse.common.domain.records import EventRow, unb64
from hookhouse.common.domain.times import parse_iso
from hookhouse.common.domain.verification import masked as masked_verification


def epoch_ms(value: datetime) -> int:
    """A time ClickHouse answered (UTC, however its zone is marked) in epoch ms."""
    return int(value.replace(tzinfo=UTC).timestamp() * 1000)


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def source(resource: dict[str, Any], state: ConfigState, ingest_url: str) -> dict[str, Any]:
    """A source; its ``url`` is under its project's first custom domain, if it has one."""
    base = public_base(state.custom_domains(resource["project_id"]), ingest_url)
    return {
        "id": resource["id"],
        "name": resource["name"],
        "description": resource.get("description"),
        "team_id": resource["project_id"],
        "url": f"{base}/e/{resource['id']}",
        "verification": masked_verification(resource.get("verification")),
        "allowed_http_methods": resource.get("allowed_http_methods"),
        "custom_response": None,
        "disabled_at": resource.get("disabled_at"),
        "updated_at": resource["updated_at"],
        "created_at": resource["created_at"],
    }


SECRET_FIELDS = ("password", "api_key", "token", "client_secret", "signing_secret")


def masked_auth(auth_method: dict[str, Any] | None) -> dict[str, Any] | None:
    """Secrets are write-only: after creation only their last four characters show."""
    if not auth_method:
        return None
    config = dict(auth_method.get("config") or {})
    for name in SECRET_FIELDS:
        if isinstance(config.get(name), str):
            config[name] = "****" + config[name][-4:]
        elif config.get(name) is not None:  # a number or a list: shown as nothing of it
            config[name] = "****"
    return {**auth_method, "config": config}


def destination(resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": resource["id"],
        "name": resource["name"],
        "description": resource.get("description"),
        "team_id": resource["project_id"],
        "url": resource.get("url"),
        "http_method": resource.get("http_method"),
        "path_forwarding_disabled": resource.get("path_forwarding_disabled", False),
        "http_timeout": resource.get("http_timeout"),
        "rate_limit": resource.get("rate_limit"),
        "rate_limit_period": resource.get("rate_limit_period"),
        "auth_method": masked_auth(resource.get("auth_method")),
        "disabled_at": resource.get("disabled_at"),
        "updated_at": resource["updated_at"],
        "created_at": resource["created_at"],
    }


def connection(resource: dict[str, Any], state: ConfigState, ingest_url: str) -> dict[str, Any]:
    src = state.get("source", resource["source_id"])
    dst = state.get("destination", resource["destination_id"])
    return {
        "id": resource["id"],
        "name": resource.get("name"),
        "full_name": f"{src['name'] if src else '?'} -> {resource.get('name')}",
        "description": resource.get("description"),
        "team_id": resource["project_id"],
        "source": source(src, state, ingest_url) if src else None,
        "destination": destination(dst) if dst else None,
        "rules": resource.get("rules", []),
        "ordering": resource.get("ordering"),
        "disabled_at": resource.get("disabled_at"),
        "paused_at": resource.get("paused_at"),
        "updated_at": resource["updated_at"],
        "created_at": resource["created_at"],
    }


def error_codes(stored: str) -> dict[str, str | None]:
    """A stored error code as Hookdeck's ``error_code`` (of its closed list) and
    hookhouse's own ``error_detail``, the precise one (``domain/error_codes.py``)."""
    return {"error_code": hookdeck_code(stored), "error_detail": stored or None}


def event(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "team_id": row["project_id"],
        "webhook_id": row["connection_id"],
        "source_id": row["source_id"],
        "destination_id": row["destination_id"],
        "request_id": row["request_id"],
        # Hookdeck's id of the data the event came from: here its request's, the id
        # bookmarks take; what the event delivers (transformed or not) is its ``data``.
        "event_data_id": row["request_id"],
        "attempts": row["attempts"],
        "last_attempt_at": iso(row["last_attempt_at"]),
        "next_attempt_at": iso(row.get("next_attempt_at")),
        "response_status": row["response_status"],
        **error_codes(row["error_code"]),
        "status": row["status"],
        "successful_at": iso(row["last_attempt_at"]) if row["status"] == "SUCCESSFUL" else None,
        "cli_id": None,
        "waiting_for": row.get("waiting_for") or None,
        "updated_at": iso(row["last_attempt_at"] or row["created_at"]),
        "created_at": iso(row["created_at"]),
    }


def produced_event(row: EventRow) -> dict[str, Any]:
    """An event as the API just produced it (its row not yet in ClickHouse)."""
    return event(
        {
            **{name: getattr(row, name) for name in row.__slots__},
            "created_at": parse_iso(row.created_at),
            "last_attempt_at": None,
            "next_attempt_at": None,
        }
    )


def attempt(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "team_id": row["project_id"],
        "event_id": row["event_id"],
        "destination_id": row["destination_id"],
        "response_status": row["response_status"],
        "attempt_number": row["attempt_number"],
        "trigger": row["trigger"],
        **error_codes(row["error_code"]),
        "body": row["response_body"],
        "requested_url": row["requested_url"],
        "http_method": row["http_method"],
        "bulk_retry_id": None,
        "status": row["status"],
        "successful_at": iso(row["created_at"]) if row["status"] == "SUCCESSFUL" else None,
        "delivered_at": iso(row["created_at"]),
        "response_latency": row["duration_ms"],
        # hookhouse's own: what the destination answered with, besides its body
        "response_headers": dict(row["response_headers"]),
        "updated_at": iso(row["created_at"]),
        "created_at": iso(row["created_at"]),
    }


def request(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "team_id": row["project_id"],
        "source_id": row["source_id"],
        "verified": row["verified"],
        "rejection_cause": row["rejection_cause"] or None,
        "events_count": row["events_count"],
        "ignored_count": row.get("ignored_count", 0),
        "ingested_at": iso(row["created_at"]),
        "updated_at": iso(row["created_at"]),
        "created_at": iso(row["created_at"]),
    }


def request_with_data(row: dict[str, Any]) -> dict[str, Any]:
    """A request and what it carried (Hookdeck's ``data``), as received."""
    return {**request(row), "data": event_data(row)}


def ignored_event(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "team_id": row["project_id"],
        "webhook_id": row["connection_id"],
        "request_id": row["request_id"],
        "cause": row["cause"],
        "meta": orjson.loads(row["meta"] or "{}"),
        "updated_at": iso(row["created_at"]),
        "created_at": iso(row["created_at"]),
    }


def transformation(resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": resource["id"],
        "team_id": resource["project_id"],
        "name": resource["name"],
        "code": resource["code"],
        "env": resource.get("env") or {},
        "updated_at": resource["updated_at"],
        "created_at": resource["created_at"],
    }


# The console methods a transformation's lines are kept with ("warn: text"; console.log's
# bare), and Hookdeck's log levels from the lowest.
CONSOLE_TYPES = ("debug", "info", "warn", "error")


def console_lines(lines: list[str]) -> list[dict[str, str]]:
    """Captured console lines as Hookdeck's ``{type, message}``: ``"warn: x"`` is a warn
    line, a line without a method's prefix console.log's."""
    out = []
    for line in lines:
        kind, sep, text = line.partition(": ")
        if sep and kind in CONSOLE_TYPES:
            out.append({"type": kind, "message": text})
        else:
            out.append({"type": "log", "message": line})
    return out


def log_level(lines: list[dict[str, str]], failed: bool) -> str:
    """A run's level, as Hookdeck gives it: ``error`` when it failed, else the highest of
    its lines' (``info`` for none, or only console.log's)."""
    if failed:
        return "error"
    seen = {line["type"] for line in lines}
    return next((level for level in reversed(CONSOLE_TYPES) if level in seen), "info")


def transformation_execution(row: dict[str, Any]) -> dict[str, Any]:
    logs = console_lines(orjson.loads(row["logs"] or "[]"))
    return {
        "id": row["id"],
        "team_id": row["project_id"],
        "transformation_id": row["transformation_id"],
        "webhook_id": row["connection_id"],
        "request_id": row["request_id"],
        # Data ids as events give them: the request's (the event_data_id of its events)
        # and the event's its output became, read at /events/{id}/raw_body.  A run no
        # event came of (it failed, or a later rule ignored the request) kept no output:
        # its transformed id is the request's, and its event_id null.
        "original_event_data_id": row["request_id"],
        "transformed_event_data_id": row["event_id"] or row["request_id"],
        "event_id": row["event_id"] or None,
        "status": row["status"],
        "error": row["error"] or None,
        "log_level": log_level(logs, row["status"] == "FAILED"),
        "logs": logs,
        "duration": row["duration_ms"],
        "updated_at": iso(row["created_at"]),
        "created_at": iso(row["created_at"]),
    }


def event_data(payload: dict[str, Any]) -> dict[str, Any]:
    """Hookdeck's event ``data``: what the event delivers, body parsed when it is JSON."""
    message = Message(
        dict(payload["headers"]), unb64(payload["body"]), payload["path"], payload["query"]
    )
    return {
        "path": message.path,
        "query": message.query,
        "parsed_query": message.parsed_query(),
        "headers": message.headers,
        "body": message.parsed_body(),
        "is_large_payload": False,
    }


def custom_domain(resource: dict[str, Any]) -> dict[str, Any]:
    """Hookdeck's custom domain.  It takes requests as soon as it is stored, so its
    ``status`` is ``active``; hookhouse issues no certificate and checks no ownership,
    so it has no ``ssl`` or ``ownership_verification`` (docs/api.md, "Custom domains")."""
    return {
        "id": resource["id"],
        "hostname": resource["hostname"],
        "status": "active",
        "verification_errors": [],
        "created_at": resource["created_at"],
    }


def issue_trigger(resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": resource["id"],
        "team_id": resource["project_id"],
        "name": resource.get("name"),
        "type": resource["type"],
        "configs": resource["configs"],
        "channels": resource.get("channels") or {},
        "disabled_at": resource.get("disabled_at"),
        "updated_at": resource["updated_at"],
        "created_at": resource["created_at"],
        "deleted_at": None,
    }


def bookmark(resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": resource["id"],
        "team_id": resource["project_id"],
        "webhook_id": resource["webhook_id"],
        "event_data_id": resource["event_data_id"],
        "label": resource["label"],
        "name": resource.get("name"),
        "alias": None,
        "last_used_at": resource.get("last_used_at"),
        "updated_at": resource["updated_at"],
        "created_at": resource["created_at"],
    }
