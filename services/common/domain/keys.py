"""API keys: ``Authorization: Bearer <key>``, or Basic with the key as the user name."""

from __future__ import annotations

import base64
import binascii


def presented_key(authorization: str | None) -> str | None:
    """The API key in an ``Authorization`` header value, or ``None``."""
    if not authorization:
        return None
    scheme, _, credentials = authorization.partition(" ")
    scheme = scheme.lower()
    credentials = credentials.strip()
    if scheme == "bearer" and credentials:
        return credentials
    if scheme == "basic" and credentials:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        user = decoded.partition(":")[0]
        return user or None
    return None
