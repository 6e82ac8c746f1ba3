"""Mailchimp Transactional (formerly Mandrill), the Mailchimp product that signs its
webhooks: ``x-mandrill-signature`` is the base64 HMAC-SHA1, keyed with the webhook's
key, of the webhook's URL followed by each POST field's name and value, the fields
sorted by name (the body is form-encoded: ``mandrill_events=…``).  The URL is the one
registered with Mailchimp, so hookhouse signs the request's URL as it was called.

Mailchimp Marketing's audience webhooks carry no signature at all (Mailchimp suggests a
secret in the URL's query); a request without ``x-mandrill-signature`` is refused."""

from __future__ import annotations

from urllib.parse import parse_qsl

from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature


def _mailchimp(configs: Configs, signed: Signed) -> bool:
    try:
        fields = parse_qsl(signed.body.decode(), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return False
    payload = signed.url + "".join(name + value for name, value in sorted(fields, key=_name))
    expected = signature(configs["webhook_secret_key"], payload.encode(), "base64", "sha1")
    return same(signed.headers.get("x-mandrill-signature", ""), expected)


def _name(field: tuple[str, str]) -> str:
    return field[0]


PROVIDERS = {"mailchimp": Provider(("webhook_secret_key",), _mailchimp)}
