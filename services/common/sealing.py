"""Secrets in configuration records, sealed on the ``config`` topic.

Anyone who can read the topic (a Kafka consumer, a broker's disk, a backup) would
otherwise read every signing secret, verification key, destination credential (a
destination's URL too: it can carry a password or a key) and transformation environment.
So every value under a secret's name (``SECRET_NAMES``), at any depth of a resource and
of any JSON type, is written as ``sealed:v1:`` and a Fernet token (AES-128-CBC with
HMAC-SHA256, from the ``cryptography`` package) of its JSON, and opened again when a
service reads the log. A value is sealed whatever it holds, so a sealed token copied
into a resource is opened back to that text, never to the secret.

Keys come from ``HOOKHOUSE_CONFIG_KEYS``: Fernet keys separated by commas; the first
seals, any opens, so a key is rotated by putting the new one first and rewriting the
resources.  Without a key records are written as they are (``hookhouse up`` makes one),
and a value written before keys were set is read as it is.
"""

from __future__ import annotations

from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

SECRET_NAMES = frozenset(
    {
        "signing_secret",
        "webhook_secret_key",
        "password",
        "api_key",
        "token",
        "client_secret",
        "vercel_log_drains_secret",  # a Vercel log drain's signature secret
        "verification_token",  # eBay's, for its challenge handshake
        "env",  # a transformation's environment: where its code keeps secrets
        "url",  # a destination's: a user:password@ part or a key in its query
    }
)
PREFIX = "sealed:v1:"
MARK = PREFIX.encode()


class Unopenable(ValueError):
    """A sealed value that none of the keys opens (a missing or wrong key)."""


def new_key() -> str:
    return Fernet.generate_key().decode()


class Sealer:
    def __init__(self, keys: str) -> None:
        """``keys``: comma-separated Fernet keys (the first seals); empty for none."""
        parts = [key.strip() for key in keys.split(",") if key.strip()]
        try:
            self._fernet = MultiFernet([Fernet(key) for key in parts]) if parts else None
        except ValueError as exc:
            raise ValueError(
                "HOOKHOUSE_CONFIG_KEYS must be Fernet keys (32 url-safe base64 bytes), "
                "separated by commas"
            ) from exc

    @property
    def sealing(self) -> bool:
        return self._fernet is not None

    def seal(self, resource: Any) -> Any:
        """``resource`` with every secret sealed (unchanged without keys)."""
        if self._fernet is None:
            return resource
        return self._walk(resource, self._seal_one)

    def open(self, resource: Any) -> Any:
        """``resource`` with every sealed secret opened; raises :class:`Unopenable`."""
        return self._walk(resource, self._open_one)

    def _walk(self, item: Any, change: Any) -> Any:
        if isinstance(item, dict):
            return {
                name: change(value)
                if name in SECRET_NAMES and value is not None
                else self._walk(value, change)
                for name, value in item.items()
            }
        if isinstance(item, list):
            return [self._walk(value, change) for value in item]
        return item

    def _seal_one(self, value: Any) -> str:
        assert self._fernet is not None
        return PREFIX + self._fernet.encrypt(orjson.dumps(value)).decode()

    def _open_one(self, value: Any) -> Any:
        if not isinstance(value, str) or not value.startswith(PREFIX):
            return value  # written before keys were set
        if self._fernet is None:
            raise Unopenable("a secret is sealed and HOOKHOUSE_CONFIG_KEYS is not set")
        try:
            return orjson.loads(self._fernet.decrypt(value[len(PREFIX) :].encode()))
        except InvalidToken as exc:
            raise Unopenable("a secret is sealed with a key not in HOOKHOUSE_CONFIG_KEYS") from exc
