"""What a values file may smuggle into the chart's objects.  Values come from whoever
runs `helm install`, often pasted from elsewhere: a setting must stay one setting, a
secret must not land in a ConfigMap, and shapes the services cannot read are refused
at render time, not at a pod's start."""

from __future__ import annotations

import re

import pytest

from tests.helm import find, refusal, render


def test_a_setting_s_value_cannot_add_another_setting() -> None:
    injected = "x\nHOOKHOUSE_CONFIG_KEYS: stolen\nHOOKHOUSE_HOST: 6.6.6.6"
    manifests = render(sets=(f"settings.delivery_header_prefix={injected}",))
    data = find(manifests, "ConfigMap", "hookhouse-settings")["data"]
    assert "HOOKHOUSE_CONFIG_KEYS" not in data
    assert data["HOOKHOUSE_HOST"] == "0.0.0.0"


def test_a_secret_s_value_cannot_break_out_of_its_key() -> None:
    injected = 'k" \nHOOKHOUSE_EXTRA: "1'
    manifests = render(sets=(f"secrets.configKeys={injected}",))
    secret = find(manifests, "Secret", "hookhouse-secrets")["stringData"]
    assert secret["HOOKHOUSE_CONFIG_KEYS"] == injected
    assert "HOOKHOUSE_EXTRA" not in secret


@pytest.mark.parametrize(
    "pair",
    [
        "settings.host=0.0.0.0",  # the chart's
        "settings.ingest_port=80",  # the chart's: probes and Services follow it
        "settings.config_key=x",  # a typo of a secret's name
        "settings.clickhouse_url=http://default:pw@ch:8123",  # a secret as a setting
        "settings.log_level.nested=x",  # a map where a setting's value goes
        "settings.topic_partitions=0",
        "settings.topic_partitions=-3",
        "settings.topic_partitions=four",
        "settings.kafka_bootstrap=",
        "router.replicas=0",
        "sink.replicas=-1",
        "ingest.autoscaling.targetCPUUtilizationPercentage=1000",
        "api.disruptionBudget.maxPods=1",
        "secrets.token=x",
        "image.repository=",
    ],
)
def test_values_the_services_cannot_run_with_are_refused_at_render(pair: str) -> None:
    assert refusal(sets=(pair,))


def test_a_huge_number_of_replicas_is_refused_against_the_partitions() -> None:
    error = refusal(sets=("deliverer.replicas=2147483647",))
    assert "partitions" in error


def test_a_long_release_name_still_makes_valid_names() -> None:
    # Service names are DNS labels: at most 63 characters, lower case, digits and '-'.
    label = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
    for manifest in render(release="r" * 53):  # the longest Helm takes
        assert label.match(manifest["metadata"]["name"]), manifest["metadata"]["name"]
