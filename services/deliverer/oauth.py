"""OAuth2 client-credentials tokens for destinations, cached until shortly before expiry."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

REFRESH_MARGIN_SECONDS = 60.0


class OAuthError(Exception):
    pass


class TokenCache:
    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session
        self._tokens: dict[str, tuple[str, float]] = {}  # destination id -> (token, expiry)
        self._locks: dict[str, asyncio.Lock] = {}

    async def token(self, destination_id: str, config: dict[str, Any]) -> str:
        cached = self._tokens.get(destination_id)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        async with self._locks.setdefault(destination_id, asyncio.Lock()):
            cached = self._tokens.get(destination_id)
            if cached and cached[1] > time.monotonic():
                return cached[0]
            token, lifetime = await self._fetch(config)
            expiry = time.monotonic() + max(lifetime - REFRESH_MARGIN_SECONDS, 0.0)
            self._tokens[destination_id] = (token, expiry)
            return token

    async def _fetch(self, config: dict[str, Any]) -> tuple[str, float]:
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
            async with self._session.post(
                str(config["auth_server"]), data=form, headers=headers
            ) as response:
                data = await response.json(content_type=None)
                if response.status != 200 or "access_token" not in data:
                    raise OAuthError(f"token endpoint answered {response.status}")
        except (aiohttp.ClientError, TimeoutError, KeyError, ValueError) as exc:
            raise OAuthError(str(exc)) from exc
        return str(data["access_token"]), float(data.get("expires_in", 3600))
