"""Razorpay: ``x-razorpay-signature`` is the hex HMAC-SHA256 of the body, keyed with the
webhook's secret.  Razorpay signs no timestamp; its ``x-razorpay-event-id`` is for
de-duplication, which is the pipeline's, not verification's."""

from __future__ import annotations

from hookhouse.common.domain.providers.base import Configs, Provider, Signed, same, signature


def _razorpay(configs: Configs, signed: Signed) -> bool:
    expected = signature(configs["webhook_secret_key"], signed.body, "hex")
    return same(signed.headers.get("x-razorpay-signature", ""), expected)


PROVIDERS = {"razorpay": Provider(("webhook_secret_key",), _razorpay)}
