"""Inbound verification: is this request really from the source's provider?  Pure.

A source's ``verification`` is Hookdeck's ``{"type": ..., "configs": {...}}``; each type
is a provider in ``domain/providers/`` with its required configs, its secrets and its
scheme (``hmac``, ``basic_auth`` and ``api_key`` are the provider-neutral ones).  A type
not there is refused by name when the source is written, never accepted unchecked.
Every comparison is constant-time.
"""

from __future__ import annotations

from typing import Any

from hookhouse.common.domain.providers import HOOKDECK_TYPES, PROVIDERS
from hookhouse.common.domain.providers.base import Answer, InvalidVerification, Signed

__all__ = ["REQUIRED", "Answer", "InvalidVerification", "challenge", "check", "masked", "reply"]
__all__ += ["Signed", "verify", "verify_signed"]

# The configs each type requires, by type: what the API documents.
REQUIRED: dict[str, tuple[str, ...]] = {kind: p.required for kind, p in PROVIDERS.items()}


def check(verification: Any) -> dict[str, Any] | None:
    """The config, checked (``None`` for no verification), or InvalidVerification."""
    if verification is None:
        return None
    kind = verification.get("type") if isinstance(verification, dict) else None
    if isinstance(kind, str) and kind in HOOKDECK_TYPES and kind not in PROVIDERS:
        raise InvalidVerification(
            f"verification.type {kind!r} is Hookdeck's but hookhouse does not verify it yet; "
            f"one of {', '.join(PROVIDERS)}"
        )
    if not isinstance(kind, str) or kind not in PROVIDERS:
        raise InvalidVerification(f"verification.type must be one of {', '.join(PROVIDERS)}")
    configs = verification.get("configs")
    if not isinstance(configs, dict):
        raise InvalidVerification("verification.configs must be an object")
    provider = PROVIDERS[kind]
    for name in provider.required:
        if not isinstance(configs.get(name), str) or not configs[name]:
            raise InvalidVerification(f"verification.configs.{name} is required for {kind}")
    provider.check(configs)
    return {"type": kind, "configs": configs}


def verify(
    verification: dict[str, Any],
    headers: dict[str, str],
    body: bytes,
    now: float,
    url: str = "",
    method: str = "POST",
) -> bool:
    """True when the request carries what the source's provider would send; ``url`` is
    the request's as the provider called it (schemes that sign it need it)."""
    return verify_signed(verification, Signed(headers, body, now, url, method))


def verify_signed(verification: dict[str, Any], signed: Signed) -> bool:
    """:func:`verify`, for a request already read as :class:`Signed`."""
    return PROVIDERS[verification["type"]].verify(verification["configs"], signed)


def challenge(verification: dict[str, Any], signed: Signed) -> Answer | None:
    """The answer to the provider's unsigned handshake, when the request is one (X's CRC,
    eBay's challenge code): answered before verification, and not stored."""
    provider = PROVIDERS[verification["type"]]
    return provider.challenge(verification["configs"], signed)


def reply(verification: dict[str, Any], signed: Signed) -> Answer | None:
    """The answer a verified request gets when it is the provider's handshake (Slack's
    url_verification, Zoom's url_validation, Discord's PING, Twitch's callback
    verification), instead of ingest's own."""
    provider = PROVIDERS[verification["type"]]
    return provider.reply(verification["configs"], signed)


def masked(verification: dict[str, Any] | None) -> dict[str, Any] | None:
    """For API answers: secrets show only their last four characters."""
    if not verification:
        return None
    configs = dict(verification["configs"])
    provider = PROVIDERS.get(verification["type"])
    for name in provider.secrets if provider else tuple(configs):
        if isinstance(configs.get(name), str):
            configs[name] = "****" + configs[name][-4:]
        elif configs.get(name) is not None:  # a number or a list: shown as nothing of it
            configs[name] = "****"
    return {"type": verification["type"], "configs": configs}
