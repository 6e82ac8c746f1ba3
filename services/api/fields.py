"""What the management API accepts: request bodies checked and turned into the fields
stored in the config log.  Every refusal is an :class:`ApiError` naming the field.  Pure:
no I/O.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hookhouse.common.domain.admission import CUSTOM_RESPONSE_MEDIA, HTTP_METHODS
from hookhouse.common.domain.destination_auth import InvalidAuthConfig, credentials
from hookhouse.common.domain.filters import depth
from hookhouse.common.domain.message import Message, body_bytes
from hookhouse.common.domain.signing import InvalidSigningConfig
from hookhouse.common.domain.verification import InvalidVerification
from hookhouse.common.domain.verification import check as check_verification


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str) -> Response:
    return JSONResponse(
        {"handled": True, "status": status, "code": code, "message": message}, status_code=status
    )


# Objects and lists a body may nest.  No resource needs more (a filter, the deepest,
# nests at most 32), and what is stored must stay writable: orjson writes at most 254.
MAX_BODY_DEPTH = 64


async def json_body(request: Request, required: bool = True) -> dict[str, Any]:
    """The body's JSON object; an empty body is ``{}`` when the body is optional."""
    raw = await request.body()
    if not raw.strip() and not required:
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "INVALID_JSON", f"The body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "INVALID_JSON", "The body must be a JSON object.")
    if depth(data, MAX_BODY_DEPTH) > MAX_BODY_DEPTH:
        raise ApiError(
            422,
            "UNPROCESSABLE_ENTITY",
            f"The body nests objects and lists deeper than {MAX_BODY_DEPTH} levels.",
        )
    return data


def required_text(data: dict[str, Any], field: str) -> str:
    value = data.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(422, "UNPROCESSABLE_ENTITY", f"'{field}' is required and must be text.")
    return value


def transformation_fields(data: dict[str, Any]) -> dict[str, Any]:
    code = data.get("code")
    if not isinstance(code, str) or not code.strip():
        raise ApiError(422, "UNPROCESSABLE_ENTITY", "'code' must be the JavaScript source.")
    return {"name": required_text(data, "name"), "code": code, "env": env_field(data)}


def env_field(data: dict[str, Any]) -> dict[str, str]:
    env = data.get("env") or {}
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise ApiError(422, "UNPROCESSABLE_ENTITY", "'env' must be an object of strings.")
    return env


def sample_message(sample: Any) -> Message:
    """A request object as Hookdeck's run endpoint takes it, as a message."""
    if sample is None:
        sample = {}
    if not isinstance(sample, dict):
        raise ApiError(422, "UNPROCESSABLE_ENTITY", "'request' must be an object.")
    headers = sample.get("headers") or {}
    if not isinstance(headers, dict):
        raise ApiError(422, "UNPROCESSABLE_ENTITY", "'request.headers' must be an object.")
    return Message(
        {str(k): str(v) for k, v in headers.items()},
        body_bytes(sample.get("body")),
        str(sample.get("path") or "/"),
        str(sample.get("query") or ""),
    )


MAX_CUSTOM_RESPONSE_BYTES = 1000


def source_fields(data: dict[str, Any]) -> dict[str, Any]:
    try:
        verification = check_verification(data.get("verification"))
    except InvalidVerification as exc:
        raise ApiError(422, "UNPROCESSABLE_ENTITY", str(exc)) from exc
    return {
        "name": required_text(data, "name"),
        "description": optional_text(data, "description"),
        "allowed_http_methods": allowed_methods_field(data.get("allowed_http_methods")),
        "custom_response": custom_response_field(data.get("custom_response")),
        "verification": verification,
    }


def optional_text(data: dict[str, Any], field: str) -> str | None:
    value = data.get(field)
    if value is not None and not isinstance(value, str):
        raise ApiError(422, "UNPROCESSABLE_ENTITY", f"'{field}' must be text.")
    return value


def allowed_methods_field(value: Any) -> list[str] | None:
    """``None`` allows every method (Hookdeck's default: POST, PUT, PATCH, DELETE, GET)."""
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(m, str) and m.upper() in HTTP_METHODS for m in value)
    ):
        raise ApiError(
            422,
            "UNPROCESSABLE_ENTITY",
            f"'allowed_http_methods' must be a non-empty list of {', '.join(HTTP_METHODS)}.",
        )
    return sorted({m.upper() for m in value}, key=HTTP_METHODS.index)


def custom_response_field(value: Any) -> dict[str, str] | None:
    """What ingest answers instead of its JSON: ``content_type`` json, text or xml."""
    if value is None:
        return None
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("content_type"), str)
        or value["content_type"] not in CUSTOM_RESPONSE_MEDIA
        or not isinstance(value.get("body"), str)
    ):
        raise ApiError(
            422,
            "UNPROCESSABLE_ENTITY",
            '\'custom_response\' must be {"content_type": "json" | "text" | "xml", "body": text}.',
        )
    if len(value["body"].encode()) > MAX_CUSTOM_RESPONSE_BYTES:
        raise ApiError(
            422,
            "UNPROCESSABLE_ENTITY",
            f"'custom_response.body' must be at most {MAX_CUSTOM_RESPONSE_BYTES} bytes.",
        )
    return {"content_type": value["content_type"], "body": value["body"]}


RATE_LIMIT_PERIODS = ("second", "minute", "hour", "concurrent")
MAX_HTTP_TIMEOUT_SECONDS = 300


def http_timeout_field(value: Any) -> int | None:
    """Seconds an attempt to this destination may take (an extension: Convoy's
    ``http_timeout``); ``None``: the deliverer's ``delivery_timeout_seconds``."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 1 <= value <= MAX_HTTP_TIMEOUT_SECONDS
    ):
        raise ApiError(
            422,
            "UNPROCESSABLE_ENTITY",
            "'http_timeout' must be a whole number of seconds, "
            f"from 1 to {MAX_HTTP_TIMEOUT_SECONDS}.",
        )
    return value


def destination_fields(data: dict[str, Any]) -> dict[str, Any]:
    url = required_text(data, "url")
    if not url.startswith(("http://", "https://")):
        raise ApiError(422, "UNPROCESSABLE_ENTITY", "'url' must be an http:// or https:// URL.")
    return {
        "name": required_text(data, "name"),
        "description": optional_text(data, "description"),
        "url": url,
        "http_method": http_method_field(data.get("http_method")),
        "path_forwarding_disabled": flag_field(data, "path_forwarding_disabled"),
        "http_timeout": http_timeout_field(data.get("http_timeout")),
        **rate_limit_fields(data),
        "auth_method": auth_method_field(data.get("auth_method")),
    }


def http_method_field(value: Any) -> str | None:
    """The method deliveries use; ``None``: the method the request came with."""
    if value is None:
        return None
    if not isinstance(value, str) or value.upper() not in HTTP_METHODS:
        raise ApiError(
            422,
            "UNPROCESSABLE_ENTITY",
            f"'http_method' must be null or one of {', '.join(HTTP_METHODS)}.",
        )
    return value.upper()


def flag_field(data: dict[str, Any], field: str) -> bool:
    """A true/false field, false when absent or null."""
    value = data.get(field)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ApiError(422, "UNPROCESSABLE_ENTITY", f"'{field}' must be true or false.")
    return value


def rate_limit_fields(data: dict[str, Any]) -> dict[str, Any]:
    limit, period = data.get("rate_limit"), data.get("rate_limit_period")
    if limit is None:
        return {"rate_limit": None, "rate_limit_period": None}
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ApiError(422, "UNPROCESSABLE_ENTITY", "'rate_limit' must be a whole number >= 1.")
    if period not in RATE_LIMIT_PERIODS:
        raise ApiError(
            422,
            "UNPROCESSABLE_ENTITY",
            f"'rate_limit_period' must be one of {', '.join(RATE_LIMIT_PERIODS)}.",
        )
    return {"rate_limit": limit, "rate_limit_period": period}


def auth_method_field(value: Any) -> dict[str, Any] | None:
    """Checked by building credentials once, so a bad config is refused now, not later."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ApiError(422, "UNPROCESSABLE_ENTITY", "'auth_method' must be an object.")
    placeholder = "validation-only"  # stands in for the project secret and OAuth token
    try:
        credentials(
            value,
            b"",
            event_id="evt_check",
            timestamp=0,
            project_secret=placeholder,
            header_prefix="x-",
            oauth_token=placeholder,
        )
    except (InvalidAuthConfig, InvalidSigningConfig) as exc:
        raise ApiError(422, "UNPROCESSABLE_ENTITY", str(exc)) from exc
    return value


ISSUE_TYPES = ("delivery", "transformation", "backpressure")
LOG_LEVELS = ("debug", "info", "warn", "error", "fatal")
# Per issue type: (the key naming what it watches, the default of each config).
TRIGGER_CONFIGS: dict[str, dict[str, Any]] = {
    "delivery": {"strategy": "first_attempt", "connections": "*"},
    "transformation": {"log_level": "error", "transformations": "*"},
    "backpressure": {"delay": 300_000, "destinations": "*"},
}


def issue_trigger_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Hookdeck's issue trigger: a ``type``, its ``configs`` and notification ``channels``."""
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in ISSUE_TYPES:
        raise ApiError(
            422, "UNPROCESSABLE_ENTITY", f"'type' must be one of {', '.join(ISSUE_TYPES)}."
        )
    given = data.get("configs") or {}
    if not isinstance(given, dict):
        raise ApiError(422, "UNPROCESSABLE_ENTITY", "'configs' must be an object.")
    configs = {**TRIGGER_CONFIGS[kind], **given}
    unknown = set(configs) - set(TRIGGER_CONFIGS[kind])
    if unknown:
        raise ApiError(
            422,
            "UNPROCESSABLE_ENTITY",
            f"'configs' of a {kind} trigger has {', '.join(sorted(TRIGGER_CONFIGS[kind]))}, "
            f"not {', '.join(sorted(unknown))}.",
        )
    for name, value in configs.items():
        if name in ("connections", "transformations", "destinations") and not (
            value == "*"
            or (isinstance(value, list) and value and all(isinstance(v, str) for v in value))
        ):
            raise ApiError(
                422, "UNPROCESSABLE_ENTITY", f"'configs.{name}' must be \"*\" or a list of ids."
            )
    if configs.get("strategy", "first_attempt") not in ("first_attempt", "final_attempt"):
        raise ApiError(
            422,
            "UNPROCESSABLE_ENTITY",
            "'configs.strategy' must be first_attempt or final_attempt.",
        )
    if configs.get("log_level", "error") not in LOG_LEVELS:
        raise ApiError(
            422,
            "UNPROCESSABLE_ENTITY",
            f"'configs.log_level' must be one of {', '.join(LOG_LEVELS)}.",
        )
    delay = configs.get("delay", 60_000)
    if not isinstance(delay, int) or isinstance(delay, bool) or not 60_000 <= delay <= 86_400_000:
        raise ApiError(
            422,
            "UNPROCESSABLE_ENTITY",
            "'configs.delay' must be milliseconds from 60000 (1 minute) to 86400000 (1 day).",
        )
    channels = data.get("channels") or {}
    if not isinstance(channels, dict) or not all(
        name in ("slack", "email", "opsgenie") and isinstance(value, dict)
        for name, value in channels.items()
    ):
        raise ApiError(
            422,
            "UNPROCESSABLE_ENTITY",
            "'channels' must be an object with any of slack, email, opsgenie (each an object).",
        )
    # The name is optional (Hookdeck's too): unnamed triggers are not unique by name.
    return {
        "name": optional_text(data, "name") or None,
        "type": kind,
        "configs": configs,
        "channels": channels,
    }


def bookmark_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Hookdeck's bookmark: a request (``event_data_id``) saved for a connection
    (``webhook_id``) under a ``label``, and optionally a unique ``name``."""
    return {
        "webhook_id": required_text(data, "webhook_id"),
        "event_data_id": required_text(data, "event_data_id"),
        "label": required_text(data, "label"),
        "name": optional_text(data, "name"),
    }
