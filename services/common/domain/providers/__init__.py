"""Every ``verification.type`` a source can have, one module per provider (or family of
the same scheme); each module's ``PROVIDERS`` joins the registry here."""

from __future__ import annotations

from hookhouse.common.domain.providers import (
    body_hmac,
    generic,
    github,
    shopify,
    standard_webhooks,
    stripe,
)
from hookhouse.common.domain.providers.base import Provider

# Every type of Hookdeck's VerificationConfig (API 2024-03-01, @hookdeck/sdk 0.4.0).
HOOKDECK_TYPES = frozenset(
    {
        "hmac",
        "basic_auth",
        "api_key",
        "cloudsignal",
        "courier",
        "frontapp",
        "twitter",
        "stripe",
        "recharge",
        "twilio",
        "github",
        "shopify",
        "postmark",
        "typeform",
        "xero",
        "svix",
        "zoom",
        "akeneo",
        "adyen",
        "gitlab",
        "property-finder",
        "woocommerce",
        "oura",
        "commercelayer",
        "hubspot",
        "mailgun",
        "persona",
        "pipedrive",
        "sendgrid",
        "workos",
        "synctera",
        "aws_sns",
        "three_d_eye",
        "twitch",
        "enode",
        "favro",
        "linear",
        "shopline",
        "wix",
        "nmi",
        "orb",
        "pylon",
        "repay",
        "square",
        "solidgate",
        "trello",
        "sanity",
        "ebay",
        "telnyx",
        "discord",
        "tokenio",
        "fiserv",
        "bondsmith",
        "vercel_log_drains",
        "vercel",
        "tebex",
        "slack",
        "razorpay",
        "mailchimp",
        "paddle",
    }
)

PROVIDERS: dict[str, Provider] = {
    **generic.PROVIDERS,
    **stripe.PROVIDERS,
    **github.PROVIDERS,
    **shopify.PROVIDERS,
    **standard_webhooks.PROVIDERS,
    **body_hmac.PROVIDERS,  # typeform, xero, woocommerce, commercelayer, twitter, property-finder
}
