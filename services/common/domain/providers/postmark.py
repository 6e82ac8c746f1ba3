"""Postmark signs nothing: its documented protection is HTTP Basic authentication, the
credentials put in the webhook's URL (``https://user:password@…``) and sent as
``Authorization: Basic …`` (Postmark, "Webhooks overview: protecting your webhook"),
besides an IP allow-list.  So this is ``basic_auth`` under Postmark's name, with its
``username`` and ``password``; there is no replay protection."""

from __future__ import annotations

from hookhouse.common.domain.providers import generic
from hookhouse.common.domain.providers.base import Provider

_BASIC = generic.PROVIDERS["basic_auth"]

PROVIDERS = {"postmark": Provider(_BASIC.required, _BASIC.verify, secrets=_BASIC.secrets)}
