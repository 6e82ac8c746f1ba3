"""Public keys as providers' dashboards show them and users paste them: every written
form of the same key is read as that key, and anything else is refused by name."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from hookhouse.common.domain.providers.base import InvalidVerification
from hookhouse.common.domain.providers.keys import ecdsa_key, rsa_key

SPKI = serialization.PublicFormat.SubjectPublicKeyInfo
PEM, DER = serialization.Encoding.PEM, serialization.Encoding.DER


def forms(key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey) -> list[str]:
    pem = key.public_bytes(PEM, SPKI).decode()
    return [
        pem,
        "".join(pem.splitlines()),  # on one line, as some APIs return it
        pem.replace("\n", "\\n"),  # with its line breaks escaped, as in a .env file
        base64.b64encode(key.public_bytes(DER, SPKI)).decode(),
        base64.b64encode(pem.encode()).decode(),  # the PEM itself in base64
    ]


def test_every_written_form_of_an_ec_key_is_that_key() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    for text in forms(key):
        assert ecdsa_key(text).public_numbers() == key.public_numbers()


def test_every_written_form_of_an_rsa_key_and_pkcs1_is_that_key() -> None:
    key = rsa.generate_private_key(65537, 2048).public_key()
    pkcs1 = key.public_bytes(PEM, serialization.PublicFormat.PKCS1).decode()
    for text in [*forms(key), pkcs1]:
        assert rsa_key(text, "no").public_numbers() == key.public_numbers()


@pytest.mark.parametrize(
    "text",
    ["", "not a key", "-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----", "QUJD" * 5000],
)
def test_what_is_no_key_is_refused_with_the_callers_words(text: str) -> None:
    with pytest.raises(InvalidVerification, match="the Wix key"):
        rsa_key(text, "the Wix key")


def test_a_key_of_the_other_kind_is_refused() -> None:
    key = rsa.generate_private_key(65537, 2048).public_key()
    with pytest.raises(InvalidVerification):
        ecdsa_key(key.public_bytes(PEM, SPKI).decode())
