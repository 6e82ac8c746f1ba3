"""The providers that sign the body and nothing else: an HMAC-SHA256 of the raw body,
keyed by the source's secret, in a header of the provider's own.  They share this one
scheme exactly and differ only in the header, the encoding and a prefix:

- ``typeform``: ``typeform-signature: sha256=<base64>`` (Typeform, "Secure your
  webhooks").
- ``xero``: ``x-xero-signature: <base64>``, keyed by the webhook key (Xero, "Webhooks:
  signature"; the "intent to receive" request is signed the same way).
- ``woocommerce``: ``x-wc-webhook-signature: <base64>`` (WooCommerce REST API,
  "Webhooks").
- ``commercelayer``: ``x-commercelayer-signature: <base64>``, keyed by the webhook's
  ``shared_secret`` (Commerce Layer, "Real-time webhooks: security").
- ``property-finder``: ``x-signature: <hex>`` (a ``sha256=`` prefix is also accepted).
  Property Finder's Enterprise API documentation was not reachable when this was
  written; the scheme is the one integrators of its lead webhooks describe, and is the
  least certain of this family.

None of them signs a timestamp, so none protects against a replayed request; none
defines a tolerance either.
"""

from __future__ import annotations

from dataclasses import dataclass

from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature


@dataclass(frozen=True)
class BodySignature:
    header: str
    encoding: str  # "base64" or "hex"
    prefix: str = ""  # before the signature: required, unless optional_prefix
    key_config: str = "webhook_secret_key"  # the config whose value keys the HMAC
    optional_prefix: bool = False

    def verify(self, configs: Configs, signed: Signed) -> bool:
        sent = signed.headers.get(self.header, "")
        if self.optional_prefix:
            sent = sent.removeprefix(self.prefix)
        expected = signature(configs[self.key_config], signed.body, self.encoding)
        return same(sent, expected if self.optional_prefix else self.prefix + expected)

    def provider(self) -> Provider:
        return Provider((self.key_config,), self.verify, secrets=(self.key_config,))


SCHEMES = {
    "typeform": BodySignature("typeform-signature", "base64", prefix="sha256="),
    "xero": BodySignature("x-xero-signature", "base64"),
    "woocommerce": BodySignature("x-wc-webhook-signature", "base64"),
    "commercelayer": BodySignature("x-commercelayer-signature", "base64"),
    "property-finder": BodySignature("x-signature", "hex", prefix="sha256=", optional_prefix=True),
}

PROVIDERS = {kind: scheme.provider() for kind, scheme in SCHEMES.items()}
