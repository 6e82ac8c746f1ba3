"""Twilio: ``x-twilio-signature``, the base64 HMAC-SHA1 keyed by the account's auth token
(``webhook_secret_key``) of the full URL Twilio called (query included), followed, for a
form-encoded POST, by every POST parameter sorted by name, each as name then value with
no separators (Twilio, "Webhooks security: validating signatures from Twilio").

- For a JSON body Twilio adds ``bodySHA256`` (the hex SHA-256 of the body) to the URL's
  query and signs the URL alone; the body must hash to it.
- A GET's parameters are in the URL already: the URL alone is signed.
- Twilio's own libraries also accept the URL with the default port written out (or
  left out) when it was the other way: some of Twilio's requests are signed that way.

Twilio signs no timestamp, so there is no replay protection.  The newer
``x-twilio-webhooks-signature-settings`` (a shared key and HMAC-SHA256 set by a Webhooks
Rule) is not supported: such requests fail here.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, parse_qsl, urlsplit, urlunsplit

from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature
from hookhouse.common.domain.signing import encode

DEFAULT_PORTS = {"http": 80, "https": 443}


def _with_and_without_port(url: str) -> list[str]:
    """The URL, and the same URL with its scheme's default port written out or left out."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port that is not a number, an unclosed IPv6 bracket
        return [url]
    default = DEFAULT_PORTS.get(parts.scheme)
    if default is None or parts.hostname is None or port not in (None, default):
        return [url]
    userinfo = parts.netloc.rpartition("@")[0]
    host = parts.netloc.rpartition("@")[2]
    host = host.rsplit(":", 1)[0] if port is not None else f"{host}:{default}"
    netloc = f"{userinfo}@{host}" if userinfo else host
    return [url, urlunsplit(parts._replace(netloc=netloc))]


def _form(signed: Signed) -> str:
    """The POST parameters as Twilio appends them: sorted by name, name then value."""
    if signed.method.upper() != "POST":
        return ""
    try:
        pairs = parse_qsl(signed.body.decode(), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        return ""
    return "".join(name + value for name, value in sorted(pairs))


def _twilio(configs: Configs, signed: Signed) -> bool:
    try:
        query = parse_qs(urlsplit(signed.url).query, keep_blank_values=True)
    except ValueError:  # not a URL Twilio could have called
        return False
    body_hash = query.get("bodySHA256")
    if body_hash is not None:  # a JSON body: the URL alone is signed, and names its hash
        if not same(body_hash[0], encode(hashlib.sha256(signed.body).digest(), "hex")):
            return False
        params = ""
    else:
        params = _form(signed)
    sent = signed.headers.get("x-twilio-signature", "")
    secret = configs["webhook_secret_key"]
    return any(
        same(sent, signature(secret, (url + params).encode(), "base64", "sha1"))
        for url in _with_and_without_port(signed.url)
    )


PROVIDERS = {"twilio": Provider(("webhook_secret_key",), _twilio)}
