"""Attempt error codes: hookhouse's precise ones, and Hookdeck's closed list; pure.

The deliverer stores the precise code of each failure, and everything inside hookhouse
reads that one: retry decisions (``retry.py``), metrics labels, the hourly rollup,
issue ids, dead-letter reasons and the dashboard.  Hookdeck's clients accept only the
codes of Hookdeck's list (``AttemptErrorCodes``, API 2024-03-01; its SDK refuses any
other), so the API answers each stored code as one of that list in ``error_code`` and
the precise code in ``error_detail`` (:func:`hookdeck_code`).  Mapping at the answer,
not at the source, keeps the rows already stored, the rollup's keys and the retry rules
as they are, and loses no detail a filter or the dashboard needs.
"""

from __future__ import annotations

HOOKDECK_CODES = (
    "CANCELLED",
    "TIMEOUT",
    "NOT_FOUND",
    "CONNECTION_REFUSED",
    "CONNECTION_RESET",
    "MISSING_URL",
    "CLI",
    "CLI_UNAVAILABLE",
    "SELF_SIGNED_CERT",
    "ERR_TLS_CERT_ALTNAME_INVALID",
    "ERR_SSL_WRONG_VERSION_NUMBER",
    "SSL_ERROR_CA_UNKNOWN",
    "TTL_EXPIRED",
    "DATA_ARCHIVED",
    "SSL_CERT_EXPIRED",
    "BULK_RETRY_CANCELLED",
    "DNS_LOOKUP_FAILED",
    "HOST_UNREACHABLE",
    "PROTOCOL_ERROR",
    "SOCKET_CLOSED",
    "OAUTH2_HANDSHAKE_FAILED",
    "UNKNOWN",
)

# hookhouse's codes outside Hookdeck's list, and the one of it each is answered as.
# None: Hookdeck tells that failure by ``response_status`` alone, with no error code.
OWN_CODES: dict[str, str | None] = {
    "BAD_RESPONSE": None,  # the destination answered, not with a 2xx
    "SSRF_BLOCKED": "HOST_UNREACHABLE",  # the SSRF guard refused the destination's address
    "SSL_ERROR": "UNKNOWN",  # a TLS failure none of Hookdeck's TLS codes names
    "AUTH_CONFIG_INVALID": "UNKNOWN",  # the destination's auth or signature cannot be used
}

# OpenSSL's certificate verification results (X509_V_ERR_*) that Hookdeck names.
TLS_VERIFY_CODES = {
    2: "SSL_ERROR_CA_UNKNOWN",  # UNABLE_TO_GET_ISSUER_CERT
    10: "SSL_CERT_EXPIRED",  # CERT_HAS_EXPIRED
    18: "SELF_SIGNED_CERT",  # DEPTH_ZERO_SELF_SIGNED_CERT
    19: "SELF_SIGNED_CERT",  # SELF_SIGNED_CERT_IN_CHAIN
    20: "SSL_ERROR_CA_UNKNOWN",  # UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    21: "SSL_ERROR_CA_UNKNOWN",  # UNABLE_TO_VERIFY_LEAF_SIGNATURE
    62: "ERR_TLS_CERT_ALTNAME_INVALID",  # HOSTNAME_MISMATCH
    64: "ERR_TLS_CERT_ALTNAME_INVALID",  # IP_ADDRESS_MISMATCH
}
# OpenSSL's reasons for a failed handshake that Hookdeck names.
TLS_REASONS = {"WRONG_VERSION_NUMBER": "ERR_SSL_WRONG_VERSION_NUMBER"}


class UnknownErrorCode(ValueError):
    pass


def tls_error_code(verify_code: int | None, reason: str | None) -> str:
    """The code of a failed TLS connection, from OpenSSL's verify code (a certificate
    it refused) or its reason (a handshake that went wrong); ``SSL_ERROR`` otherwise."""
    if verify_code in TLS_VERIFY_CODES:
        return TLS_VERIFY_CODES[verify_code]
    return TLS_REASONS.get(reason or "", "SSL_ERROR")


def hookdeck_code(code: str) -> str | None:
    """The code of Hookdeck's list a stored ``code`` is answered as; ``None`` for none
    (no error, or an answer that was not 2xx).  A code of neither list (a newer
    hookhouse's, read by an older API) is ``UNKNOWN``."""
    if not code:
        return None
    if code in HOOKDECK_CODES:
        return code
    return OWN_CODES.get(code, "UNKNOWN")


def stored_codes(name: str) -> list[str]:
    """The stored codes a filter on ``name`` matches: one of hookhouse's own matches
    itself; one of Hookdeck's, itself and hookhouse's codes answered as it."""
    if name in OWN_CODES:
        return [name]
    if name not in HOOKDECK_CODES:
        raise UnknownErrorCode(
            f"{name[:40]!r} is not an attempt error code; use one of Hookdeck's "
            f"({', '.join(HOOKDECK_CODES)}) or hookhouse's ({', '.join(OWN_CODES)})."
        )
    return [name, *(own for own, answered in OWN_CODES.items() if answered == name)]
