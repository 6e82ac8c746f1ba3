"""eBay notifications (marketplace account deletion and the Notification API):
``x-ebay-signature`` is base64 of a JSON object ``{"alg": "ecdsa", "kid": …,
"signature": <base64 DER>, "digest": "SHA1"}``: an ECDSA signature, with SHA-1, of the
body, by the key eBay's ``getPublicKey`` returns for ``kid``.

eBay expects that key to be fetched (with an OAuth token made from ``client_id`` and
``client_secret``) and cached; the domain fetches nothing, so the key is a config:
``public_key``, the PEM eBay returns (line breaks optional).  Without it the
verification is refused when the source is written, never accepted unchecked; when eBay
rotates its key, requests are refused until ``public_key`` is updated.  Hookdeck's
other configs (``environment``, ``client_id``, ``client_secret``, ``dev_id``,
``verification_token``) are kept.  eBay's GET ``?challenge_code=…`` handshake is
answered (when ``verification_token`` is set) with ``challengeResponse``, the hex
SHA-256 of the code, the token and the endpoint (the URL eBay called, without its
query: the source's URL as registered with eBay)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes

from hookhouse.common.domain.providers.base import (
    Answer,
    Configs,
    InvalidVerification,
    Provider,
    Signed,
    query_value,
    text,
)
from hookhouse.common.domain.providers.keys import ecdsa_key, ecdsa_signed, unbase64


def _check(configs: Configs) -> None:
    key = configs.get("public_key")
    if not isinstance(key, str) or not key:
        raise InvalidVerification(
            "verification.configs.public_key is required for ebay: hookhouse does not fetch "
            "eBay's key; give the PEM that eBay's getPublicKey returns for your "
            "notifications' kid"
        )
    ecdsa_key(key)


def _header(text: str) -> dict[str, Any]:
    raw = unbase64(text)
    try:
        value = json.loads(raw) if raw else None
    except (ValueError, RecursionError):  # not JSON (or absurdly nested)
        return {}
    return value if isinstance(value, dict) else {}


def _ebay(configs: Configs, signed: Signed) -> bool:
    header = _header(signed.headers.get("x-ebay-signature", ""))
    alg, digest, sent = header.get("alg"), header.get("digest"), header.get("signature")
    if not (isinstance(alg, str) and isinstance(digest, str) and isinstance(sent, str)):
        return False
    if alg.lower() != "ecdsa" or digest.upper() != "SHA1":  # all eBay uses
        return False
    digest_algorithm = hashes.SHA1()  # noqa: S303 - what eBay signs with, not a choice
    return ecdsa_signed(configs["public_key"], unbase64(sent), signed.body, digest_algorithm)


def _challenge(configs: Configs, signed: Signed) -> Answer | None:
    code = text(query_value(signed.url, "challenge_code"))
    token = text(configs.get("verification_token"))
    if signed.method != "GET" or code is None or token is None:
        return None
    endpoint = signed.url.partition("?")[0]
    answer = hashlib.sha256((code + token + endpoint).encode()).hexdigest()
    return Answer(orjson.dumps({"challengeResponse": answer}))


PROVIDERS = {
    "ebay": Provider(
        (), _ebay, _check, secrets=("client_secret", "verification_token"), challenge=_challenge
    ),
}
