"""Trello: ``x-trello-webhook`` is the base64 HMAC-SHA1, keyed with the application's
OAuth secret, of the body followed by the webhook's ``callbackURL``.  That URL is the
one the webhook was created with, so hookhouse signs the request's URL as Trello called
it: the source's URL (query included) must be the callbackURL exactly.  Trello's HEAD
request when a webhook is created carries no signature and is refused here."""

from __future__ import annotations

from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature


def _trello(configs: Configs, signed: Signed) -> bool:
    payload = signed.body + signed.url.encode()
    expected = signature(configs["webhook_secret_key"], payload, "base64", "sha1")
    return same(signed.headers.get("x-trello-webhook", ""), expected)


PROVIDERS = {"trello": Provider(("webhook_secret_key",), _trello)}
