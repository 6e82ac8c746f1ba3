"""CloudSignal (Cloudprinter.com's webhooks, v2.0): no signature at all.  Each signal is a
JSON object whose ``apikey`` field is the endpoint's Webhook API key (not the account's
API key), and that is all there is to check (Cloudprinter.com, "CloudSignal Webhooks";
its ``@cloudprinter/cloudsignal`` SDK compares the same field).  The key travels in the
body, so anyone who sees one request can forge others: TLS is what protects it, and
there is no replay protection."""

from __future__ import annotations

import orjson

from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same


def _cloudsignal(configs: Configs, signed: Signed) -> bool:
    try:
        signal = orjson.loads(signed.body)
    except orjson.JSONDecodeError:  # not JSON, not UTF-8, or nested too deep
        return False
    sent = signal.get("apikey") if isinstance(signal, dict) else None
    return isinstance(sent, str) and same(sent, configs["api_key"])


PROVIDERS = {"cloudsignal": Provider(("api_key",), _cloudsignal, secrets=("api_key",))}
