"""Token.io: ``token-signature`` is the base64url Ed25519 signature of the body alone
(``token-event`` names the event and is not signed); ``public_key`` is the Ed25519
public key from the dashboard's member information, base64url without padding (base64
and PEM are accepted too).  Nothing in the request is a timestamp, so there is no
freshness check: a captured request stays valid, as Token.io's scheme allows."""

from __future__ import annotations

from hookhouse.common.domain.providers.base import Configs, Provider, Signed
from hookhouse.common.domain.providers.keys import ed25519_key, ed25519_signed, unbase64


def _check(configs: Configs) -> None:
    ed25519_key(configs["public_key"], "base64url")


def _tokenio(configs: Configs, signed: Signed) -> bool:
    sent = unbase64(signed.headers.get("token-signature", ""))
    return ed25519_signed(configs["public_key"], "base64url", sent, signed.body)


PROVIDERS = {"tokenio": Provider(("public_key",), _tokenio, _check, secrets=())}
