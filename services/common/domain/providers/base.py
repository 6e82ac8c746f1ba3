"""What every provider's verification is made of: the request as signed, the provider's
description (its required configs, its secrets, its check), and the pieces most schemes
share (an HMAC, a constant-time comparison, a timestamp's freshness)."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hookhouse.common.domain.signing import digest, encode

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


def _no_check(configs: Configs) -> None:
    return None


@dataclass(frozen=True)
class Provider:
    """One ``verification.type``: ``required`` configs must be non-empty text, ``check``
    refuses other unusable configs (InvalidVerification), ``verify`` says whether a
    request carries what the provider sends, and ``secrets`` are the configs the API
    shows masked (each must also be in ``common/sealing.py``'s SECRET_NAMES)."""

    required: tuple[str, ...]
    verify: Callable[[Configs, Signed], bool]
    check: Callable[[Configs], None] = _no_check
    secrets: tuple[str, ...] = ("webhook_secret_key",)


def same(sent: str, expected: str) -> bool:
    """Constant-time equality of two texts."""
    return hmac.compare_digest(sent.encode(), expected.encode())


def signature(secret: str, payload: bytes, encoding: str, algorithm: str = "sha256") -> str:
    """The HMAC of ``payload`` with ``secret``, encoded (hex, base64 or base64url)."""
    return encode(digest(secret.encode(), payload, algorithm), encoding)


def fresh(stamp: str, now: float, tolerance: float = TOLERANCE_SECONDS) -> bool:
    """Whether ``stamp`` (seconds since the epoch, as text) is within ``tolerance`` of now."""
    # isdigit() alone admits "²", and int() refuses more than 4300 digits: a crafted
    # header would raise instead of being refused.
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 15):
        return False
    return abs(now - int(stamp)) <= tolerance
