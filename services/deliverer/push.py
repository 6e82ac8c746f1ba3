"""The push: one attempt's HTTP request to its destination, and what it came to.

Every connection, OAuth2 token requests included, goes through the SSRF-checked
connector of :mod:`hookhouse.common.outbound`.  An attempt carries the delivery's
headers and its destination's auth and signature, and stays as a whole (a token
request included) within the destination's timeout; every client failure becomes one
of Hookdeck's attempt error codes, with a text that quotes no credential.  What
follows the attempt is the domain's decision (``domain/outcome.py``).
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
from typing import Any

import aiohttp
from yarl import URL

from hookhouse.common.clock import now_ms
from hookhouse.common.domain.attempt import outbound_headers
from hookhouse.common.domain.destination_auth import Credentials, InvalidAuthConfig, credentials
from hookhouse.common.domain.error_codes import tls_error_code
from hookhouse.common.domain.outcome import Pushed
from hookhouse.common.domain.records import Delivery
from hookhouse.common.domain.retry import RetryPolicy
from hookhouse.common.domain.signing import InvalidSigningConfig
from hookhouse.common.domain.ssrf import Network, SsrfBlocked
from hookhouse.common.domain.target import CACHED_BELOW, Target, target
from hookhouse.common.outbound import guarded_connector
from hookhouse.common.settings import Settings
from hookhouse.deliverer.oauth import OAuthError, TokenCache


def error_code_of(exc: BaseException) -> str:
    """Map a client exception to an attempt error code: Hookdeck's where one of its
    codes says what happened (a TLS failure OpenSSL names too), else hookhouse's own
    (``domain/error_codes.py``)."""
    cause = exc.os_error if isinstance(exc, aiohttp.ClientConnectorError) else exc
    if isinstance(exc, OAuthError) and exc.__cause__ is not None:  # its token request's
        cause = exc.__cause__
        if isinstance(cause, aiohttp.ClientConnectorError):
            cause = cause.os_error
    if isinstance(cause, SsrfBlocked):  # from the guarded connector (common.outbound)
        return "SSRF_BLOCKED"
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "TIMEOUT"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "DNS_LOOKUP_FAILED"
    if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError):
        refused = cause if isinstance(cause, ssl.SSLCertVerificationError) else None
        return tls_error_code(
            refused.verify_code if refused else None,  # a certificate OpenSSL refused
            cause.reason if isinstance(cause, ssl.SSLError) else None,  # or the handshake's
        )
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "CONNECTION_REFUSED"
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientOSError):
        return "CONNECTION_RESET"
    if isinstance(exc, InvalidAuthConfig | InvalidSigningConfig):
        return "AUTH_CONFIG_INVALID"
    if isinstance(exc, OAuthError):
        return "OAUTH2_HANDSHAKE_FAILED"
    return "UNKNOWN"


# Read a response to its end (so its connection goes back to the pool) up to this many
# bytes; past it, stop reading and let the connection close.
DRAIN_LIMIT_BYTES = 1024 * 1024


async def read_capped(response: aiohttp.ClientResponse, keep: int) -> bytes:
    """The first ``keep`` bytes of the body; the rest is read and dropped (up to a cap)."""
    size = response.content_length
    if size is not None and size <= keep:  # the usual short answer, read in one call
        return await response.read()
    kept = bytearray()
    seen = 0
    async for chunk in response.content.iter_any():
        if len(kept) < keep:
            kept += chunk[: keep - len(kept)]
        seen += len(chunk)
        if seen > DRAIN_LIMIT_BYTES:
            break
    return bytes(kept)


def remaining(limit: aiohttp.ClientTimeout, started: float) -> aiohttp.ClientTimeout:
    """What is left of an attempt's ``limit`` after what it spent before the request
    (an OAuth2 token request, say): the whole attempt stays within the timeout."""
    spent = time.perf_counter() - started
    if limit.total is None or spent < 0.01:  # nothing worth a new timeout object
        return limit
    return aiohttp.ClientTimeout(total=max(limit.total - spent, 0.001))


@functools.lru_cache(maxsize=4096)
def normalised(destination_url: str) -> str:
    """A destination's URL as the client would encode it (an IDN host, a space...)."""
    return str(URL(destination_url))


def request_url(url: str) -> URL:
    """``url`` sent exactly as built: the client's own re-quoting would decode what
    :func:`target` encoded on purpose (``%3B`` back to ``;``).  Kept for short URLs only
    (see ``target.CACHED_BELOW``)."""
    return _request_url(url) if len(url) < 4 * CACHED_BELOW else URL(url, encoded=True)


_request_url = functools.lru_cache(maxsize=4096)(lambda url: URL(url, encoded=True))


def masked(message: str, where: Target, secrets: tuple[str, ...]) -> str:
    """An error's text without the credentials of the URL it may quote."""
    message = message.replace(where.url, where.shown)
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    return message


class Pusher:
    """Pushes deliveries through one client session, made in the running loop."""

    def __init__(self, settings: Settings, allowed: tuple[Network, ...], connections: int) -> None:
        self.settings = settings
        self.dashboard_url = settings.dashboard_url  # a property, made anew on each read
        self.session = aiohttp.ClientSession(
            # Deliveries and OAuth2 token requests: every connection is SSRF-checked.
            connector=guarded_connector(allowed, limit=connections),
            timeout=aiohttp.ClientTimeout(total=settings.delivery_timeout_seconds),
            auto_decompress=False,
            # Stateless deliveries: a cookie one destination sets would otherwise go
            # with every later request to its host, another tenant's destinations too.
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        self.tokens = TokenCache(self.session)
        self.timeouts: dict[float, aiohttp.ClientTimeout] = {}  # seconds -> its timeout

    async def push(
        self,
        delivery: Delivery,
        destination: dict[str, Any],
        body: bytes,
        policy: RetryPolicy,
        names: dict[str, str],
        project_secret: str,
    ) -> Pushed:
        """One attempt of ``delivery`` to ``destination``: its answer, or the error code
        of why there was none.  ``policy`` says whether a failure would be retried (a
        header says after how long); ``names`` name its source, connection and
        destination in headers; ``project_secret`` signs it when its destination asks."""
        method = destination.get("http_method") or delivery.method
        timeout = self.timeout(destination)
        started_ms = now_ms()
        started = time.perf_counter()
        status: int | None = None
        error_code = ""
        response_headers: dict[str, str] = {}
        response_body = ""
        # What the attempt records until the URL is built (a bad URL fails the attempt).
        where = Target(destination["url"], destination["url"])
        secrets: tuple[str, ...] = ()
        try:
            extra, token = await self.credentials(
                delivery, destination, body, project_secret, started_ms, timeout
            )
            secrets = tuple(extra.query.values())
            where = target(
                normalised(destination["url"]),
                delivery.path,
                delivery.query,
                not destination.get("path_forwarding_disabled", False),
                tuple(extra.query.items()),
            )
            headers = outbound_headers(
                delivery,
                self.settings.delivery_header_prefix,
                names,
                policy.delay(delivery.attempt)
                if policy.should_retry(delivery.attempt, None, "")
                else None,
                self.dashboard_url,
                extra.headers,
            )
            async with self.session.request(
                method,
                request_url(where.url),
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=remaining(timeout, started),
            ) as response:
                status = response.status
                if status == 401 and token is not None:
                    self.tokens.refused(destination["id"], token)
                for name, value in response.headers.items():
                    key = str(name).lower()
                    seen = response_headers.get(key)
                    response_headers[key] = f"{seen}, {value}" if seen else value
                raw = await read_capped(response, self.settings.response_body_limit)
                response_body = raw.decode("utf-8", errors="replace")
        except Exception as exc:  # every client failure becomes an attempt error code
            error_code = error_code_of(exc)
            if error_code == "TIMEOUT":  # aiohttp's timeout error has no message
                response_body = f"no answer within {timeout.total:g} s"
            else:
                response_body = masked(str(exc), where, secrets)
                response_body = response_body[: self.settings.response_body_limit]
        return Pushed(
            status,
            error_code,
            response_headers,
            response_body,
            where.shown,
            method,
            started_ms,
            int((time.perf_counter() - started) * 1000),
        )

    def timeout(self, destination: dict[str, Any]) -> aiohttp.ClientTimeout:
        """The whole attempt's limit: the destination's ``http_timeout``, or the default."""
        seconds = destination.get("http_timeout") or self.settings.delivery_timeout_seconds
        found = self.timeouts.get(seconds)
        if found is None:
            found = self.timeouts[seconds] = aiohttp.ClientTimeout(total=seconds)
        return found

    async def credentials(
        self,
        delivery: Delivery,
        destination: dict[str, Any],
        body: bytes,
        project_secret: str,
        started_ms: int,
        limit: aiohttp.ClientTimeout,
    ) -> tuple[Credentials, str | None]:
        """What authenticates and signs this attempt, and the OAuth2 token in it if any."""
        auth_method = destination.get("auth_method")
        token = None
        if auth_method and auth_method.get("type") == "OAUTH2_CLIENT_CREDENTIALS":
            token = await self.tokens.token(
                destination["id"], auth_method.get("config") or {}, limit
            )
        return credentials(
            auth_method,
            body,
            event_id=delivery.event_id,
            timestamp=started_ms // 1000,
            project_secret=project_secret,
            header_prefix=self.settings.delivery_header_prefix,
            oauth_token=token,
        ), token

    async def close(self) -> None:
        await self.session.close()
