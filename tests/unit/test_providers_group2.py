"""Verification for issue 31's second group of Hookdeck types: each accepts what its
provider sends (a provider's published example where it gives one, else a signature made
here by the published recipe) and refuses a changed body, a wrong secret, a missing header
and, where the scheme signs a time, a stale one."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import pytest

from hookhouse.common.domain.providers import PROVIDERS
from hookhouse.common.domain.verification import InvalidVerification, check, masked, verify
from hookhouse.common.sealing import SECRET_NAMES

SECRET = "whsec_group2"
OTHER = "not-the-secret"
NOW = 1_795_000_000.0
BODY = b'{"id": "evt_1", "type": "order.created"}'
GROUP2 = (
    "persona",
    "workos",
    "synctera",
    "twitch",
    "orb",
    "pylon",
)


def mac(payload: bytes, secret: str = SECRET, algorithm: Any = hashlib.sha256) -> bytes:
    return hmac.new(secret.encode(), payload, algorithm).digest()


def config(kind: str, **configs: str) -> dict[str, Any]:
    checked = check({"type": kind, "configs": configs})
    assert checked is not None
    return checked


def test_every_secret_config_is_sealed_and_masked() -> None:
    for kind in GROUP2:
        assert set(PROVIDERS[kind].secrets) <= SECRET_NAMES, kind
    shown = masked(config("persona", webhook_secret_key="wbhsec_abcdef1234"))
    assert shown == {"type": "persona", "configs": {"webhook_secret_key": "****1234"}}


# Schemes that sign a time with the body: refused when it is stale.
def persona_header(stamp: int, secret: str = SECRET, body: bytes = BODY) -> str:
    return f"t={stamp},v1={mac(f'{stamp}.'.encode() + body, secret).hex()}"


def test_persona() -> None:
    persona = config("persona", webhook_secret_key=SECRET)
    good = persona_header(int(NOW))
    assert verify(persona, {"persona-signature": good}, BODY, NOW)
    # While a secret rotates: two space-separated sets, either may match.
    rotating = f"{persona_header(int(NOW), OTHER)} {good}"
    assert verify(persona, {"persona-signature": rotating}, BODY, NOW)
    assert not verify(persona, {"persona-signature": good}, BODY + b" ", NOW)
    assert not verify(persona, {"persona-signature": persona_header(int(NOW), OTHER)}, BODY, NOW)
    assert not verify(persona, {}, BODY, NOW)
    stale = persona_header(int(NOW) - 301)
    assert not verify(persona, {"persona-signature": stale}, BODY, NOW)


def test_workos() -> None:
    workos = config("workos", webhook_secret_key=SECRET)
    stamp = "1626125972272"  # the timestamp of WorkOS's compute_signature example (ms)
    now = int(stamp) / 1000

    def header(stamp: str = stamp, secret: str = SECRET) -> str:
        return f"t={stamp}, v1={mac(f'{stamp}.'.encode() + BODY, secret).hex()}"

    assert verify(workos, {"workos-signature": header()}, BODY, now)
    assert verify(workos, {"workos-signature": header()}, BODY, now + 179)
    assert not verify(workos, {"workos-signature": header()}, BODY, now + 181)
    assert not verify(workos, {"workos-signature": header()}, BODY + b" ", now)
    assert not verify(workos, {"workos-signature": header(secret=OTHER)}, BODY, now)
    assert not verify(workos, {}, BODY, now)


def test_synctera() -> None:
    synctera = config("synctera", webhook_secret_key=SECRET)
    stamp = str(int(NOW))

    def headers(stamp: str = stamp, secret: str = SECRET) -> dict[str, str]:
        sent = mac(f"{stamp}.".encode() + BODY, secret).hex()
        return {"synctera-signature": sent, "request-timestamp": stamp}

    assert verify(synctera, headers(), BODY, NOW)
    rolling = headers()
    rolling["synctera-signature"] = (
        headers(secret=OTHER)["synctera-signature"] + "." + (rolling["synctera-signature"])
    )
    assert verify(synctera, rolling, BODY, NOW)  # two signatures while a secret rolls
    assert not verify(synctera, headers(), BODY + b" ", NOW)
    assert not verify(synctera, headers(secret=OTHER), BODY, NOW)
    assert not verify(synctera, {"synctera-signature": headers()["synctera-signature"]}, BODY, NOW)
    assert not verify(synctera, headers(str(int(NOW) - 301)), BODY, NOW)


def twitch_headers(stamp: str, secret: str = SECRET, body: bytes = BODY) -> dict[str, str]:
    message_id = "e76c6bd4-55c9-4987-8304-da1588d8988b"
    sent = mac(message_id.encode() + stamp.encode() + body, secret).hex()
    return {
        "twitch-eventsub-message-id": message_id,
        "twitch-eventsub-message-timestamp": stamp,
        "twitch-eventsub-message-signature": f"sha256={sent}",
    }


def test_twitch() -> None:
    twitch = config("twitch", webhook_secret_key=SECRET)
    stamp = "2026-11-18T12:00:00.123456789Z"  # RFC 3339 with nanoseconds, as Twitch sends
    now = datetime(2026, 11, 18, 12, 0, 0, 123456, tzinfo=UTC).timestamp()
    assert verify(twitch, twitch_headers(stamp), BODY, now)
    assert verify(twitch, twitch_headers(stamp), BODY, now + 599)
    assert not verify(twitch, twitch_headers(stamp), BODY, now + 601)  # over 10 minutes old
    assert not verify(twitch, twitch_headers(stamp), BODY + b" ", now)
    assert not verify(twitch, twitch_headers(stamp, OTHER), BODY, now)
    for name in twitch_headers(stamp):
        partial = {k: v for k, v in twitch_headers(stamp).items() if k != name}
        assert not verify(twitch, partial, BODY, now)
    assert not verify(twitch, twitch_headers("yesterday"), BODY, now)


# Orb's webhook test vector (its SDKs' tests): this timestamp, payload, secret, signature.
ORB_STAMP = "2024-03-27T15:42:29.551"


ORB_PAYLOAD = (
    b'{"id": "o4mmewpfNNTnjfZc", "created_at": "2024-03-27T15:42:29+00:00", '
    b'"type": "resource_event.test", "properties": {"message": "A test webhook from Orb. '
    b'Happy testing!"}}'
)


ORB_SECRET = "c-UGKYdnhHh436B_sMouYAPUvXyWpzOdunZBV5dFSD8"


ORB_SIGNATURE = "9d25de966891ab0bc18754faf8d83d0980b44ae330fcc130b41a6cf3daf1f391"


def test_orb_published_vector() -> None:
    orb = config("orb", webhook_secret_key=ORB_SECRET)
    now = datetime(2024, 3, 27, 15, 42, 29, tzinfo=UTC).timestamp()
    headers = {"x-orb-timestamp": ORB_STAMP, "x-orb-signature": f"v1={ORB_SIGNATURE}"}
    assert verify(orb, headers, ORB_PAYLOAD, now)
    rolled = {**headers, "x-orb-signature": f"v1={'0' * 64} v1={ORB_SIGNATURE}"}
    assert verify(orb, rolled, ORB_PAYLOAD, now)
    assert not verify(orb, headers, ORB_PAYLOAD + b" ", now)
    assert not verify(config("orb", webhook_secret_key=OTHER), headers, ORB_PAYLOAD, now)
    assert not verify(orb, {"x-orb-timestamp": ORB_STAMP}, ORB_PAYLOAD, now)
    assert not verify(orb, headers, ORB_PAYLOAD, now + 6 * 60)  # too old
    assert not verify(orb, headers, ORB_PAYLOAD, now - 6 * 60)  # too new


def test_pylon_current_and_earlier_headers() -> None:
    pylon = config("pylon", webhook_secret_key=SECRET)
    stamp = str(int(NOW))

    def headers(stamp: str = stamp, secret: str = SECRET) -> dict[str, str]:
        sent = mac(f"{stamp}.".encode() + BODY, secret).hex()
        return {
            "pylon-webhook-signature": f"hs256={sent}",
            "pylon-webhook-timestamp": stamp,
            "pylon-webhook-version": "2021-07",
        }

    assert verify(pylon, headers(), BODY, NOW)
    assert not verify(pylon, headers(), BODY + b" ", NOW)
    assert not verify(pylon, headers(secret=OTHER), BODY, NOW)
    assert not verify(
        pylon, {"pylon-webhook-signature": headers()["pylon-webhook-signature"]}, BODY, NOW
    )
    assert not verify(pylon, headers(str(int(NOW) - 301)), BODY, NOW)
    assert not verify(pylon, {}, BODY, NOW)
    earlier = {"x-pylon-signature": mac(BODY).hex()}
    assert verify(pylon, earlier, BODY, NOW)
    assert not verify(pylon, earlier, BODY + b" ", NOW)
    # A current header, even a bad one, is never passed over for the earlier form.
    assert not verify(pylon, {**earlier, "pylon-webhook-signature": "hs256=00"}, BODY, NOW)


@pytest.mark.parametrize("kind", ["three_d_eye", "repay"])
def test_types_without_a_published_scheme_are_refused_by_name(kind: str) -> None:
    with pytest.raises(InvalidVerification, match=f"'{kind}' is Hookdeck's"):
        check({"type": kind, "configs": {"webhook_secret_key": "k"}})
