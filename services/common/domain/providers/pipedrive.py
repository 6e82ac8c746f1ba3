"""Pipedrive signs nothing: a webhook carries the HTTP Basic credentials set on it
(``http_auth_user`` / ``http_auth_password``), so what is checked is
``Authorization: Basic base64(username:password)``, nothing of the body."""

from __future__ import annotations

from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same
from hookhouse.common.domain.signing import encode


def _pipedrive(configs: Configs, signed: Signed) -> bool:
    pair = f"{configs['username']}:{configs['password']}".encode()
    return same(signed.headers.get("authorization", ""), "Basic " + encode(pair, "base64"))


PROVIDERS = {"pipedrive": Provider(("username", "password"), _pipedrive, secrets=("password",))}
