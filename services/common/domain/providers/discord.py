"""Discord (interactions and webhook events): ``x-signature-ed25519`` is the hex Ed25519
signature of the ``x-signature-timestamp`` value followed by the body, made with the
application's key; ``public_key`` is the application's public key as the developer
portal shows it (hex; PEM is accepted too).  Discord documents no window for the
timestamp, so none is applied; it is signed, so it cannot be changed.  A PING
interaction (``{"type": 1}``, signed like the others) is answered with a PONG
(``{"type": 1}``), which Discord needs before it saves the interactions URL."""

from __future__ import annotations

from hookhouse.common.domain.providers.base import Answer, Configs, Provider, Signed, json_object
from hookhouse.common.domain.providers.keys import ed25519_key, ed25519_signed, unhex


def _check(configs: Configs) -> None:
    ed25519_key(configs["public_key"], "hex")


def _discord(configs: Configs, signed: Signed) -> bool:
    stamp = signed.headers.get("x-signature-timestamp", "")
    sent = unhex(signed.headers.get("x-signature-ed25519", ""))
    message = stamp.encode() + signed.body
    return bool(stamp) and ed25519_signed(configs["public_key"], "hex", sent, message)


def _pong(configs: Configs, signed: Signed) -> Answer | None:
    interaction = json_object(signed.body) or {}
    return Answer(b'{"type":1}') if interaction.get("type") == 1 else None


PROVIDERS = {"discord": Provider(("public_key",), _discord, _check, secrets=(), reply=_pong)}
