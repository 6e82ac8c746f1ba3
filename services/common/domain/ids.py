"""Resource ids in Hookdeck's style: a kind prefix and a time-ordered random part."""

from __future__ import annotations

import hashlib
import random
import secrets

_random = random.Random(secrets.randbits(128))


def new_id(prefix: str, at_ms: int) -> str:
    """``req_0193f1c2a4b8d1e2f3a4b5c6``: sortable by creation time (``at_ms``, epoch
    milliseconds), 96 random bits.

    Ids must be unique, not secret, so a seeded PRNG stands in for the OS's random
    source, which costs a system call per id on the delivery hot path.
    """
    return f"{prefix}_{at_ms:012x}{_random.getrandbits(96):024x}"


def derived_id(prefix: str, *parts: str) -> str:
    """An id that is the same every time for the same parts.

    Event ids derive from (request id, connection id), so a router that processes a
    request twice after a crash emits the same event, and destinations can deduplicate
    on the idempotency key.
    """
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=15).hexdigest()
    return f"{prefix}_{digest}"
