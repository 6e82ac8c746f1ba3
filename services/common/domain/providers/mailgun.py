"""Mailgun: the body carries ``timestamp``, ``token`` and ``signature``, the hex
HMAC-SHA256 of ``timestamp + token`` (no separator) under the webhook signing key — in a
``signature`` object of a JSON body (webhooks), or as form fields (legacy webhooks and
routes, URL-encoded or multipart). A subaccount's event also carries ``parent-signature``,
the same under the primary account's key; either may match the configured key.

What Mailgun signs is the timestamp and the random token, not the event data; it defines
no tolerance (and warns that its deliveries can be late) and leaves replay protection —
refusing a token seen before — to the receiver, which needs state the domain does not
keep. So neither the rest of the body nor the timestamp's age is checked here."""

from __future__ import annotations

from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs

import orjson

from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature

FIELDS = ("timestamp", "token", "signature", "parent-signature")


def _text(value: Any) -> str:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _from_json(body: bytes) -> dict[str, str]:
    try:
        document = orjson.loads(body)
    except ValueError:
        return {}
    block = document.get("signature") if isinstance(document, dict) else None
    return {name: _text(block.get(name)) for name in FIELDS} if isinstance(block, dict) else {}


def _from_form(body: bytes) -> dict[str, str]:
    fields = parse_qs(body.decode("utf-8", "replace"))
    return {name: fields[name][0] for name in FIELDS if fields.get(name)}


def _from_multipart(content_type: str, body: bytes) -> dict[str, str]:
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not isinstance(message, EmailMessage) or not message.is_multipart():
        return {}
    found: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        content = part.get_payload(decode=True)
        if isinstance(name, str) and name in FIELDS and isinstance(content, bytes):
            found[name] = content.decode("utf-8", "replace").strip()
    return found


def _fields(signed: Signed) -> dict[str, str]:
    content_type = signed.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        return _from_multipart(signed.headers["content-type"], signed.body)
    if content_type.startswith("application/x-www-form-urlencoded"):
        return _from_form(signed.body)
    return _from_json(signed.body)


def _mailgun(configs: Configs, signed: Signed) -> bool:
    fields = _fields(signed)
    stamp, token = fields.get("timestamp", ""), fields.get("token", "")
    if not (stamp and token):
        return False
    expected = signature(configs["webhook_secret_key"], (stamp + token).encode(), "hex")
    sent = (fields.get("signature", ""), fields.get("parent-signature", ""))
    return any(same(candidate, expected) for candidate in sent if candidate)


PROVIDERS = {"mailgun": Provider(("webhook_secret_key",), _mailgun)}
