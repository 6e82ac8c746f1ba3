"""Consumer groups are named after the topic prefix (``topics.group``): two stacks on
one cluster never share a group, and the default prefix keeps the ids of every release
before, so an upgrade keeps its committed offsets."""

from __future__ import annotations

from hookhouse.common import topics
from hookhouse.common.kafka import adopt_offsets, consumer_config
from hookhouse.common.settings import Settings


def test_the_default_prefix_keeps_the_groups_first_ids() -> None:
    settings = Settings()
    assert settings.topic_prefix == topics.DEFAULT_PREFIX == "hookhouse."
    assert [topics.group(settings, g) for g in topics.GROUPS] == [
        "hookhouse-router",
        "hookhouse-deliverer",
        "hookhouse-sink",
        "hookhouse-releaser",
    ]


def test_stacks_with_other_prefixes_have_groups_of_their_own() -> None:
    stacks = [Settings(topic_prefix=prefix) for prefix in ("hookhouse.", "staging.", "prod.")]
    ids = [topics.group(settings, g) for settings in stacks for g in topics.GROUPS]
    assert len(set(ids)) == len(ids)
    assert topics.group(stacks[1], topics.ROUTER_GROUP) == "staging.hookhouse-router"


def test_every_consumer_joins_its_stacks_group() -> None:
    settings = Settings(topic_prefix="staging.", instance_id="router-0")
    made = consumer_config(settings, topics.ROUTER_GROUP)
    assert made["group.id"] == "staging.hookhouse-router"


def test_a_stack_with_the_default_prefix_adopts_nothing() -> None:
    # No broker is asked (there is none at this address): the groups kept their ids.
    adopt_offsets(Settings(kafka_bootstrap="127.0.0.1:9"), topics.ROUTER_GROUP)
