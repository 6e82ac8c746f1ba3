"""Secrets on the ``config`` topic are sealed: a Kafka reader without the key does not
get signing secrets, verification keys or destination credentials, while every
service with the key reads them as written."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from pydantic import SecretStr

from hookhouse.common import topics
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.kafka import client_config
from hookhouse.common.sealing import PREFIX, Sealer, Unopenable, new_key
from hookhouse.common.settings import Settings

SECRET = "whsec_the-providers-secret"
DESTINATION: dict[str, Any] = {
    "id": "des_sealed",
    "team_id": "tm_1",
    "name": "sealed",
    "url": f"https://user:{SECRET}@example.test/hooks?api_key={SECRET}",
    "auth_method": {
        "type": "OAUTH2_CLIENT_CREDENTIALS",
        "config": {"client_id": "id", "client_secret": SECRET, "auth_server": "https://a.test"},
    },
    "headers": [{"name": "x", "password": SECRET}],
}


def test_secrets_are_sealed_at_any_depth_and_opened_back() -> None:
    sealer = Sealer(new_key())
    sealed = sealer.seal(DESTINATION)
    assert SECRET not in repr(sealed)
    assert sealed["auth_method"]["config"]["client_secret"].startswith(PREFIX)
    assert sealed["headers"][0]["password"].startswith(PREFIX)
    assert sealed["url"].startswith(PREFIX)  # a password or a key can be in it
    assert sealed["auth_method"]["config"]["client_id"] == "id"  # not a secret
    assert sealer.open(sealed) == DESTINATION


def test_a_sealed_value_copied_into_another_resource_opens_to_its_text_only() -> None:
    """Someone who reads the topic and has a tenant's key pastes another project's
    sealed secret into their own destination: it is sealed again, and opens to the
    pasted text, never to the victim's secret."""
    sealer = Sealer(new_key())
    stolen = sealer.seal(DESTINATION)["auth_method"]["config"]["client_secret"]
    mine = {"auth_method": {"type": "API_KEY", "config": {"key": "x", "api_key": stolen}}}
    opened = sealer.open(sealer.seal(mine))
    assert opened["auth_method"]["config"]["api_key"] == stolen
    assert SECRET not in repr(opened)


def test_secrets_of_any_type_and_transformation_environments_are_sealed() -> None:
    sealer = Sealer(new_key())
    odd = {
        "auth_method": {"config": {"password": 12345678, "client_secret": ["s3cret"]}},
        "env": {"STRIPE_KEY": "sk_live_abc"},
    }
    sealed = sealer.seal(odd)
    assert "12345678" not in repr(sealed) and "s3cret" not in repr(sealed)
    assert "sk_live_abc" not in repr(sealed)
    assert sealer.open(sealed) == odd


def test_a_wrong_or_missing_key_opens_nothing_and_a_rotated_one_still_opens() -> None:
    old, new = new_key(), new_key()
    sealed = Sealer(old).seal(DESTINATION)
    for keys in (new, ""):
        with pytest.raises(Unopenable):
            Sealer(keys).open(sealed)
    assert Sealer(f"{new},{old}").open(sealed) == DESTINATION
    with pytest.raises(ValueError, match="Fernet keys"):
        Sealer("not-a-key")


def test_without_keys_records_are_written_and_read_as_they_are() -> None:
    assert Sealer("").seal(DESTINATION) == DESTINATION
    assert Sealer(new_key()).open(DESTINATION) == DESTINATION  # written before keys


def raw_values(settings: Settings) -> list[bytes]:
    consumer = Consumer({**client_config(settings), "group.id": f"spy-{uuid.uuid4().hex}"})
    topic = topics.name(settings, topics.CONFIG)
    end = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1]
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    values: list[bytes] = []
    while len(values) < end:
        msg = consumer.poll(5)
        assert msg is not None
        if msg.error() is None:
            values.append(msg.value() or b"")
    consumer.close()
    return values


@pytest.mark.integration
def test_a_kafka_reader_without_the_key_does_not_get_the_secrets(settings: Settings) -> None:
    keyed = settings.model_copy(update={"config_keys": SecretStr(new_key())})
    writer = ConfigLog(keyed)
    writer.start()
    try:
        assert writer.wait_ready(30)
        assert writer.put("destination", DESTINATION["id"], DESTINATION)
    finally:
        writer.stop()
    assert not any(SECRET.encode() in value for value in raw_values(settings))

    reader = ConfigLog(keyed)  # another service, started later, with the key
    reader.start()
    try:
        assert reader.wait_ready(30)
        assert reader.state.get("destination", DESTINATION["id"]) == DESTINATION
    finally:
        reader.stop()
