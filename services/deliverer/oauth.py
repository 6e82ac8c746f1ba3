"""OAuth2 client-credentials tokens for destinations, cached until shortly before expiry.

Token requests go through the deliverer's session, so through its SSRF-guarded
connector (:mod:`hookhouse.common.outbound`), like deliveries."""

from __future__ import annotations

import asyncio
import time
from typing import Any, NamedTuple

import aiohttp

REFRESH_MARGIN_SECONDS = 60.0


class OAuthError(Exception):
    pass


class Token(NamedTuple):
    value: str
    refresh_at: float  # time.monotonic()
    config: dict[str, Any]  # the destination's auth config it was fetched with


class TokenCache:
    """One token per destination, fetched again shortly before it expires, when the
    destination's auth config changes, or after the destination refused it."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session
        self._tokens: dict[str, Token] = {}  # destination id -> its token
        self._locks: dict[str, asyncio.Lock] = {}

    def _valid(self, destination_id: str, config: dict[str, Any]) -> str | None:
        cached = self._tokens.get(destination_id)
        if cached and cached.config == config and cached.refresh_at > time.monotonic():
            return cached.value
        return None

    async def token(
        self, destination_id: str, config: dict[str, Any], limit: aiohttp.ClientTimeout
    ) -> str:
        """The destination's token; ``limit`` bounds a request to its auth server."""
        if (valid := self._valid(destination_id, config)) is not None:
            return valid
        async with self._locks.setdefault(destination_id, asyncio.Lock()):
            if (valid := self._valid(destination_id, config)) is not None:
                return valid
            token, lifetime = await self._fetch(config, limit)
            refresh_at = time.monotonic() + max(lifetime - REFRESH_MARGIN_SECONDS, 0.0)
            self._tokens[destination_id] = Token(token, refresh_at, dict(config))
            return token

    def refused(self, destination_id: str, token: str) -> None:
        """The destination answered 401 to ``token``: the next delivery fetches a new one
        (unless another delivery already did)."""
        cached = self._tokens.get(destination_id)
        if cached and cached.value == token:
            del self._tokens[destination_id]

    async def _fetch(
        self, config: dict[str, Any], limit: aiohttp.ClientTimeout
    ) -> tuple[str, float]:
        form = {"grant_type": "client_credentials"}
        if config.get("scope"):
            form["scope"] = str(config["scope"])
        headers = {}
        if config.get("authentication_type", "basic") == "basic":
            headers["Authorization"] = aiohttp.encode_basic_auth(
                str(config.get("client_id", "")), str(config.get("client_secret", ""))
            )
        else:
            form["client_id"] = str(config.get("client_id", ""))
            form["client_secret"] = str(config.get("client_secret", ""))
        try:
            # Not followed: a redirect would resend the client's secret to wherever the
            # auth server points (the connector's SSRF guard would check the address,
            # not who gets the secret).
            async with self._session.post(
                str(config["auth_server"]),
                data=form,
                headers=headers,
                timeout=limit,
                allow_redirects=False,
            ) as response:
                if response.status != 200:
                    raise OAuthError(f"token endpoint answered {response.status}")
                data = await response.json(content_type=None)
                if not isinstance(data, dict) or "access_token" not in data:
                    raise OAuthError("token endpoint answered without an access_token")
        except (aiohttp.ClientError, TimeoutError, KeyError, ValueError) as exc:
            raise OAuthError(str(exc)) from exc
        return str(data["access_token"]), float(data.get("expires_in", 3600))
