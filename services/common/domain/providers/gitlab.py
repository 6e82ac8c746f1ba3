"""GitLab: a webhook's secret token is sent as it is in ``x-gitlab-token`` (GitLab,
"Webhooks: secret token"); Hookdeck's config calls it ``api_key``.  It signs nothing,
so it proves only that the sender knows the token, and there is no replay protection."""

from __future__ import annotations

from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same


def _gitlab(configs: Configs, signed: Signed) -> bool:
    return same(signed.headers.get("x-gitlab-token", ""), configs["api_key"])


PROVIDERS = {"gitlab": Provider(("api_key",), _gitlab, secrets=("api_key",))}
