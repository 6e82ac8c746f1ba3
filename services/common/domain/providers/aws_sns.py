"""Amazon SNS (HTTP/S subscriptions): the JSON body is signed with RSA by the certificate
at its ``SigningCertURL`` — ``SignatureVersion`` 1 with SHA-1, 2 with SHA-256, PKCS#1 v1.5,
``Signature`` in base64 — over ``name\\nvalue\\n`` of, in this order, Message, MessageId,
Subject (when there is one), Timestamp, TopicArn, Type for a Notification, and Message,
MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type for a SubscriptionConfirmation
or UnsubscribeConfirmation.

The domain fetches nothing. The certificates to trust are configured on the source:
``signing_certificates`` is PEM text of one or more X.509 certificates (SNS's, as served at
``https://sns.<region>.amazonaws.com/SimpleNotificationService-….pem``), which hookhouse's
own configuration, not Hookdeck's, names. A message is accepted only when its
``SigningCertURL`` is an ``https`` URL on an SNS host of amazonaws.com (or amazonaws.com.cn)
ending in ``.pem``, and its signature verifies under one of the configured certificates
valid at ``now``; a source without certificates is refused when it is written, and a
message never passes unchecked. SNS defines no age limit for its ``Timestamp`` (retries
may be late), so none is applied.

SNS signs every topic's messages with the same certificates, whoever owns the topic: a
valid signature proves the message came through SNS, not from your topic. AWS says to
refuse an unexpected ``TopicArn``; the optional ``topic_arns`` config (ARNs separated by
commas or spaces) does that, and a source should set it."""

from __future__ import annotations

import base64
import binascii
import re
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import orjson
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from hookhouse.common.domain.providers.base import (
    Configs,
    InvalidVerification,
    Provider,
    Signed,
)

_SNS_HOST = re.compile(r"sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?")
_SIGNED = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
_SIGNED["UnsubscribeConfirmation"] = _SIGNED["SubscriptionConfirmation"]
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}


@lru_cache(maxsize=64)
def _certificates(pem: str) -> tuple[x509.Certificate, ...]:
    certificates = tuple(x509.load_pem_x509_certificates(pem.encode()))
    if not all(isinstance(c.public_key(), rsa.RSAPublicKey) for c in certificates):
        raise ValueError("SNS signs with RSA certificates")
    return certificates


def _topics(configs: Configs) -> frozenset[str]:
    listed = configs.get("topic_arns") or ""
    return frozenset(listed.replace(",", " ").split()) if isinstance(listed, str) else frozenset()


def _check(configs: Configs) -> None:
    try:
        _certificates(configs["signing_certificates"])
    except ValueError as exc:
        raise InvalidVerification(
            "signing_certificates must be PEM text of the SNS signing certificate(s) to trust"
        ) from exc
    listed = configs.get("topic_arns")
    if listed is not None and not (
        isinstance(listed, str) and all(arn.startswith("arn:") for arn in _topics(configs))
    ):
        raise InvalidVerification("topic_arns must be topic ARNs separated by commas or spaces")


def _trusted_url(url: Any) -> bool:
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and parts.port is None
        and _SNS_HOST.fullmatch(parts.hostname or "") is not None
        and parts.path.endswith(".pem")
    )


def _string_to_sign(message: dict[str, Any]) -> bytes | None:
    kind = message.get("Type")
    names = _SIGNED.get(kind, ()) if isinstance(kind, str) else ()
    lines: list[str] = []
    for name in names:
        value = message.get(name)
        if name == "Subject" and value is None:
            continue  # a Notification without a subject signs without the line
        if not isinstance(value, str):
            return None
        lines += [name, value]
    return ("\n".join(lines) + "\n").encode() if lines else None


def _aws_sns(configs: Configs, signed: Signed) -> bool:
    try:
        message = orjson.loads(signed.body)
    except ValueError:
        return False
    if not isinstance(message, dict) or not _trusted_url(message.get("SigningCertURL")):
        return False
    sent_type = signed.headers.get("x-amz-sns-message-type")
    algorithm = _HASHES.get(str(message.get("SignatureVersion")))
    payload = _string_to_sign(message)
    if (sent_type is not None and sent_type != message.get("Type")) or not (algorithm and payload):
        return False
    topics = _topics(configs)
    if topics and message.get("TopicArn") not in topics:
        return False
    try:
        sent = base64.b64decode(str(message.get("Signature", "")), validate=True)
        certificates = _certificates(configs["signing_certificates"])
    except (ValueError, binascii.Error):
        return False
    for certificate in certificates:
        valid = certificate.not_valid_before_utc.timestamp() <= signed.now
        if not (valid and signed.now <= certificate.not_valid_after_utc.timestamp()):
            continue
        key = certificate.public_key()
        if not isinstance(key, rsa.RSAPublicKey):  # _certificates admits no other
            continue
        try:
            key.verify(sent, payload, padding.PKCS1v15(), algorithm())
        except InvalidSignature:
            continue
        return True
    return False


PROVIDERS = {
    "aws_sns": Provider(("signing_certificates",), _aws_sns, _check, secrets=()),
}
