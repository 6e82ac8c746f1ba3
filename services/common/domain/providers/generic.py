"""The provider-neutral types: an HMAC of the body in a header of your choosing, Basic
authentication, and an API key in a header."""

from __future__ import annotations

from hookhouse.common.domain.providers.base import (
    Configs,
    Provider,
    Signed,
    check_digest,
    same,
    signature,
)
from hookhouse.common.domain.signing import ALGORITHMS, encode


def _check_hmac(configs: Configs) -> None:
    check_digest(configs, ALGORITHMS, "base64")


def _hmac(configs: Configs, signed: Signed) -> bool:
    sent = signed.headers.get(configs["header_key"].lower(), "")
    algorithm = configs.get("algorithm", "sha256")
    expected = signature(
        configs["webhook_secret_key"], signed.body, configs.get("encoding", "base64"), algorithm
    )
    return same(sent.removeprefix(f"{algorithm}="), expected)


def _basic_auth(configs: Configs, signed: Signed) -> bool:
    pair = f"{configs['username']}:{configs['password']}".encode()
    return same(signed.headers.get("authorization", ""), "Basic " + encode(pair, "base64"))


def _api_key(configs: Configs, signed: Signed) -> bool:
    return same(signed.headers.get(configs["header_key"].lower(), ""), configs["api_key"])


PROVIDERS = {
    "hmac": Provider(("webhook_secret_key", "header_key"), _hmac, _check_hmac),
    "basic_auth": Provider(("username", "password"), _basic_auth, secrets=("password",)),
    "api_key": Provider(("header_key", "api_key"), _api_key, secrets=("api_key",)),
}
