"""What every provider's verification is made of: the request as signed, the provider's
description (its required configs, its secrets, its check, its handshake answers), and
the pieces most schemes share (an HMAC, a constant-time comparison)."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from hookhouse.common.domain.signing import ENCODINGS, digest, encode

TOLERANCE_SECONDS = 300  # how old a signed timestamp may be, unless a provider says
Configs = dict[str, Any]


class InvalidVerification(ValueError):
    """The verification config is unusable; the message says why."""


@dataclass(frozen=True)
class Signed:
    """A request as its provider sent it, for checking what it carries."""

    headers: dict[str, str]  # by lower-case name
    body: bytes
    now: float  # seconds since the epoch, passed in: the domain reads no clock
    url: str = ""  # as the provider called it: the public ingest URL, path and query
    method: str = "POST"


@dataclass(frozen=True)
class Answer:
    """What ingest answers a provider's handshake with, instead of its own answer."""

    body: bytes
    media_type: str = "application/json"


Handshake = Callable[[Configs, Signed], Answer | None]


def _no_check(configs: Configs) -> None:
    return None


def _no_handshake(configs: Configs, signed: Signed) -> Answer | None:
    return None


@dataclass(frozen=True)
class Provider:
    """One ``verification.type``: ``required`` configs must be non-empty text, ``check``
    refuses other unusable configs (InvalidVerification), ``verify`` says whether a
    request carries what the provider sends, and ``secrets`` are the configs the API
    shows masked (each must also be in ``common/sealing.py``'s SECRET_NAMES).

    Handshakes, the requests a provider sends to check the URL and that need an answer
    computed from the source's config: ``challenge`` answers an unsigned one (checked
    before verification; not stored: it carries nothing to deliver), ``reply`` the
    answer to a verified request that is the provider's handshake (stored and routed
    like any other)."""

    required: tuple[str, ...]
    verify: Callable[[Configs, Signed], bool]
    check: Callable[[Configs], None] = _no_check
    secrets: tuple[str, ...] = ("webhook_secret_key",)
    challenge: Handshake = _no_handshake
    reply: Handshake = _no_handshake


def same(sent: str, expected: str) -> bool:
    """Constant-time equality of two texts."""
    return hmac.compare_digest(sent.encode(), expected.encode())


def signature(secret: str, payload: bytes, encoding: str, algorithm: str = "sha256") -> str:
    """The HMAC of ``payload`` with ``secret``, encoded (hex, base64 or base64url)."""
    return encode(digest(secret.encode(), payload, algorithm), encoding)


def check_digest(configs: Configs, algorithms: Iterable[str], encoding: str) -> None:
    """Refuses a config whose ``algorithm`` is not one of ``algorithms`` (default sha256)
    or whose ``encoding`` (default ``encoding``) is not one hookhouse encodes."""
    names = tuple(algorithms)
    algorithm, encoded = configs.get("algorithm", "sha256"), configs.get("encoding", encoding)
    if not (isinstance(algorithm, str) and algorithm in names):
        raise InvalidVerification(f"algorithm must be one of {', '.join(names)}")
    if not (isinstance(encoded, str) and encoded in ENCODINGS):
        raise InvalidVerification(f"encoding must be one of {', '.join(ENCODINGS)}")


def json_object(body: bytes) -> dict[str, Any] | None:
    """The body as a JSON object; None when it is not one (or not JSON, not UTF-8, or
    nested deeper than orjson reads)."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None


def text(value: Any, limit: int = 1024) -> str | None:
    """``value`` when it is a non-empty string of at most ``limit`` characters: what a
    handshake may echo back."""
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def query_value(url: str, name: str) -> str | None:
    """The one value of ``name`` in ``url``'s query; None when absent, repeated, or the
    query has more than 64 fields."""
    try:
        pairs = parse_qsl(urlsplit(url).query, max_num_fields=64)
    except ValueError:
        return None
    values = [value for key, value in pairs if key == name]
    return values[0] if len(values) == 1 else None
