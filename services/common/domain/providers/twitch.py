"""Twitch EventSub: ``twitch-eventsub-message-signature: sha256=<hex HMAC-SHA256 of
message id + timestamp + body>`` from the ``twitch-eventsub-message-id`` and
``twitch-eventsub-message-timestamp`` (RFC 3339) headers; Twitch says to refuse a message
more than 10 minutes old. Refusing an id seen before (its replay protection) needs state
the domain does not keep.  A ``webhook_callback_verification`` message (signed like the
others) is answered with its ``challenge``, as plain text."""

from __future__ import annotations

from hookhouse.common.domain.providers.base import (
    Answer,
    Configs,
    Provider,
    Signed,
    json_object,
    same,
    signature,
    text,
)
from hookhouse.common.domain.providers.stamps import iso_seconds

TOLERANCE_SECONDS = 600


def _twitch(configs: Configs, signed: Signed) -> bool:
    message_id = signed.headers.get("twitch-eventsub-message-id", "")
    stamp = signed.headers.get("twitch-eventsub-message-timestamp", "")
    sent_at = iso_seconds(stamp)
    if not message_id or sent_at is None or abs(signed.now - sent_at) > TOLERANCE_SECONDS:
        return False
    payload = message_id.encode() + stamp.encode() + signed.body
    expected = "sha256=" + signature(configs["webhook_secret_key"], payload, "hex")
    return same(signed.headers.get("twitch-eventsub-message-signature", ""), expected)


def _callback_verification(configs: Configs, signed: Signed) -> Answer | None:
    if signed.headers.get("twitch-eventsub-message-type") != "webhook_callback_verification":
        return None
    challenge = text((json_object(signed.body) or {}).get("challenge"))
    return Answer(challenge.encode(), "text/plain") if challenge else None


PROVIDERS = {"twitch": Provider(("webhook_secret_key",), _twitch, reply=_callback_verification)}
