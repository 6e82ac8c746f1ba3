"""A destination's ``auth_method``, turned into headers and query parameters; pure.

Shapes follow Hookdeck (API 2024-03-01): ``{"type": ..., "config": {...}}`` with types
HOOKDECK_SIGNATURE, BASIC_AUTH, API_KEY (``key``, ``api_key``, ``to``: header|query),
BEARER_TOKEN, OAUTH2_CLIENT_CREDENTIALS (the token is fetched by the service and
passed in), CUSTOM_SIGNATURE (``key`` = header, ``signing_secret``, and hookhouse's
``algorithm`` and ``encoding``), and hookhouse's STANDARD_WEBHOOKS (``signing_secret``).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from hookhouse.common.domain import signing

TYPES = (
    "HOOKDECK_SIGNATURE",
    "STANDARD_WEBHOOKS",
    "CUSTOM_SIGNATURE",
    "BASIC_AUTH",
    "API_KEY",
    "BEARER_TOKEN",
    "OAUTH2_CLIENT_CREDENTIALS",
)


class InvalidAuthConfig(ValueError):
    pass


@dataclass
class Credentials:
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)


def _text(config: dict[str, Any], name: str) -> str:
    value = config.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidAuthConfig(f"auth_method.config.{name} is required")
    return value


def credentials(
    auth_method: dict[str, Any] | None,
    body: bytes,
    *,
    event_id: str,
    timestamp: int,
    project_secret: str,
    header_prefix: str,
    oauth_token: str | None = None,
) -> Credentials:
    """What to add to one outbound request for ``auth_method``."""
    out = Credentials()
    if not auth_method:
        return out
    kind = auth_method.get("type")
    config = auth_method.get("config") or {}
    if kind == "HOOKDECK_SIGNATURE":
        if not project_secret:
            raise InvalidAuthConfig("the project has no signing secret")
        out.headers[f"{header_prefix}signature"] = signing.hookdeck_signature(project_secret, body)
    elif kind == "STANDARD_WEBHOOKS":
        out.headers.update(
            signing.standard_webhooks_headers(
                _text(config, "signing_secret"), event_id, timestamp, body
            )
        )
    elif kind == "CUSTOM_SIGNATURE":
        out.headers[_text(config, "key")] = signing.custom_signature(
            _text(config, "signing_secret"),
            body,
            config.get("algorithm", "sha256"),
            config.get("encoding", "hex"),
        )
    elif kind == "BASIC_AUTH":
        pair = f"{_text(config, 'username')}:{config.get('password', '')}".encode()
        out.headers["authorization"] = f"Basic {base64.b64encode(pair).decode()}"
    elif kind == "API_KEY":
        target = out.query if config.get("to") == "query" else out.headers
        target[_text(config, "key")] = _text(config, "api_key")
    elif kind == "BEARER_TOKEN":
        out.headers["authorization"] = f"Bearer {_text(config, 'token')}"
    elif kind == "OAUTH2_CLIENT_CREDENTIALS":
        if not oauth_token:
            raise InvalidAuthConfig("no OAuth2 access token could be obtained")
        out.headers["authorization"] = f"Bearer {oauth_token}"
    else:
        raise InvalidAuthConfig(f"auth_method.type must be one of {', '.join(TYPES)}")
    return out
