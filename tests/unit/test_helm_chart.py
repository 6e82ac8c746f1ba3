"""The Helm chart in deploy/helm, rendered with Helm and every object validated against
the Kubernetes schemas (kubernetes-validate bundles them: no cluster, no network).  The
operators' resources (Strimzi, Altinity, the Prometheus Operator) have no schema there
and none their projects publish to a package registry, so their structure is checked
here by hand."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from cryptography.fernet import Fernet

from hookhouse.common.domain.limits import TOPIC_MAX_MESSAGE_BYTES
from hookhouse.common.settings import Settings
from hookhouse.stack import kafka_broker
from tests.helm import CHART, EXAMPLES, KUBE_VERSION, REPO, Manifest, find, helm, refusal, render

PRODUCTION = EXAMPLES / "production-values.yaml"
SERVICES = ("ingest", "api", "router", "deliverer", "sink")
CONSUMERS = ("router", "deliverer", "sink")
SECRET_SETTINGS = {
    f"HOOKHOUSE_{name.upper()}"
    for name, field in Settings.model_fields.items()
    if "SecretStr" in str(field.annotation)
} | {"HOOKHOUSE_CLICKHOUSE_URL"}  # its password
# The operators' kinds: not Kubernetes' own, checked by the tests below.
OPERATOR_KINDS = {"PrometheusRule", "Kafka", "KafkaNodePool", "ClickHouseInstallation"}
OPERATOR_KINDS |= {"ClickHouseKeeperInstallation"}


def containers(manifest: Manifest) -> list[dict[str, Any]]:
    spec = manifest["spec"]["template"]["spec"]
    listed: list[dict[str, Any]] = spec.get("initContainers", []) + spec["containers"]
    return listed


def workloads(manifests: list[Manifest]) -> list[Manifest]:
    return [m for m in manifests if m["kind"] in ("Deployment", "Job")]


@pytest.fixture(scope="module")
def defaults() -> list[Manifest]:
    return render()


@pytest.fixture(scope="module")
def production() -> list[Manifest]:
    return render(PRODUCTION)


@pytest.mark.parametrize("values", [(), (PRODUCTION,)], ids=["defaults", "production"])
def test_every_object_is_valid_against_the_kubernetes_schemas(values: tuple[Path, ...]) -> None:
    manifests = render(*values)
    checked = {m["kind"] for m in manifests if m["kind"] not in OPERATOR_KINDS}
    for manifest in manifests:
        if manifest["kind"] not in OPERATOR_KINDS:
            kubernetes_validate.validate(manifest, KUBE_VERSION, strict=True)
    assert {"Deployment", "Service", "ConfigMap", "HorizontalPodAutoscaler"} <= checked
    assert {"PodDisruptionBudget", "Job"} <= checked


def test_each_service_is_probed_on_its_own_port(defaults: list[Manifest]) -> None:
    settings = find(defaults, "ConfigMap", "hookhouse-settings")["data"]
    for name in SERVICES:
        (container,) = containers(find(defaults, "Deployment", f"hookhouse-{name}"))
        assert container["args"] == [name]
        ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        assert ports["http"] == Settings.model_fields[f"{name}_port"].default
        assert settings[f"HOOKHOUSE_{name.upper()}_PORT"] == str(ports["http"])
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert settings["HOOKHOUSE_HOST"] == "0.0.0.0"


def test_prometheus_scrapes_each_pod_where_its_metrics_are(defaults: list[Manifest]) -> None:
    for name in SERVICES:
        pod = find(defaults, "Deployment", f"hookhouse-{name}")["spec"]["template"]
        annotations = pod["metadata"]["annotations"]
        setting = "ingest_metrics_port" if name == "ingest" else f"{name}_port"
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/path"] == "/metrics"
        assert annotations["prometheus.io/port"] == str(Settings.model_fields[setting].default)
        (container,) = pod["spec"]["containers"]
        exposed = {port["containerPort"] for port in container["ports"]}
        assert int(annotations["prometheus.io/port"]) in exposed


def test_ingest_and_api_scale_on_cpu_and_keep_one_pod_through_disruptions(
    defaults: list[Manifest],
) -> None:
    for name in ("ingest", "api"):
        deployment = find(defaults, "Deployment", f"hookhouse-{name}")
        assert "replicas" not in deployment["spec"]  # the autoscaler owns it
        autoscaler = find(defaults, "HorizontalPodAutoscaler", f"hookhouse-{name}")["spec"]
        assert autoscaler["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": f"hookhouse-{name}",
        }
        assert autoscaler["minReplicas"] >= 2
        assert autoscaler["metrics"][0]["resource"]["name"] == "cpu"
        assert find(defaults, "PodDisruptionBudget", f"hookhouse-{name}")["spec"]["minAvailable"]
        service = find(defaults, "Service", f"hookhouse-{name}")["spec"]
        assert service["selector"] == deployment["spec"]["selector"]["matchLabels"]


def test_every_disruption_budget_selects_its_own_pods(defaults: list[Manifest]) -> None:
    for name in SERVICES:
        pods = find(defaults, "Deployment", f"hookhouse-{name}")["spec"]["template"]
        selector = find(defaults, "PodDisruptionBudget", f"hookhouse-{name}")["spec"]["selector"]
        assert selector["matchLabels"].items() <= pods["metadata"]["labels"].items()
        assert selector["matchLabels"]["app.kubernetes.io/component"] == name


@pytest.mark.parametrize("name", CONSUMERS)
def test_a_consumer_with_more_replicas_than_partitions_is_refused(name: str) -> None:
    error = refusal(sets=("settings.topic_partitions=4", f"{name}.replicas=5"))
    assert f"{name}.replicas is 5 but the topics have 4 partitions" in error
    at_the_bound = render(sets=("settings.topic_partitions=4", f"{name}.replicas=4"))
    assert find(at_the_bound, "Deployment", f"hookhouse-{name}")["spec"]["replicas"] == 4


def test_the_production_example_stays_within_its_partitions(production: list[Manifest]) -> None:
    values = yaml.safe_load(PRODUCTION.read_text())
    for name in CONSUMERS:
        replicas = find(production, "Deployment", f"hookhouse-{name}")["spec"]["replicas"]
        assert 1 <= replicas <= values["settings"]["topic_partitions"]


def test_secrets_reach_the_pods_only_from_a_secret() -> None:
    given = (
        "secrets.configKeys=k3y-" + "a" * 40,
        "secrets.clickhouseUrl=http://u:pa55w0rd@ch:8123",
        "secrets.kafkaSaslPassword=sasl-s3cret",
    )
    manifests = render(sets=(*given, "settings.kafka_sasl_username=hookhouse"))
    secret = find(manifests, "Secret", "hookhouse-secrets")
    assert set(secret["stringData"]) == SECRET_SETTINGS
    for config_map in (m for m in manifests if m["kind"] == "ConfigMap"):
        text = json.dumps(config_map)
        assert not SECRET_SETTINGS & set(config_map["data"])
        assert "k3y-" not in text and "pa55w0rd" not in text and "sasl-s3cret" not in text
    for manifest in workloads(manifests):
        for container in containers(manifest):
            # no value: in a pod spec: every setting by envFrom, but the pod's own name
            assert [e["name"] for e in container["env"]] == ["HOOKHOUSE_INSTANCE_ID"]
            assert container["env"][0]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
            sources = {next(iter(source)) for source in container["envFrom"]}
            assert sources == {"configMapRef", "secretRef"}


def test_an_existing_secret_replaces_the_chart_s(production: list[Manifest]) -> None:
    assert not [m for m in production if m["kind"] == "Secret"]
    for manifest in workloads(production):
        for container in containers(manifest):
            refs = [s["secretRef"]["name"] for s in container["envFrom"] if "secretRef" in s]
            assert refs == ["hookhouse-secrets"]


def test_the_sealing_key_made_at_install_is_a_fernet_key_kept_on_uninstall(
    defaults: list[Manifest],
) -> None:
    secret = find(defaults, "Secret", "hookhouse-secrets")
    Fernet(secret["stringData"]["HOOKHOUSE_CONFIG_KEYS"].encode())  # raises if it is not one
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


def test_settings_the_chart_takes_are_exactly_the_non_secret_ones() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    allowed = set(schema["properties"]["settings"]["properties"])
    owned = {"home", "cache", "host", "prometheus", "prometheus_port", "kafka_heap"}
    owned |= {"instance_id"}  # the pod's name
    owned |= {"clickhouse_shard_urls"}  # the local stack's; a cluster takes ON CLUSTER
    owned |= {"workers"}  # the local stack's processes per stage; the chart has replicas
    owned |= {name for name in Settings.model_fields if name.endswith("_port")}
    owned |= {name for name in Settings.model_fields if name.startswith("clickhouse_reader_")}
    secret = {name.removeprefix("HOOKHOUSE_").lower() for name in SECRET_SETTINGS}
    assert allowed == set(Settings.model_fields) - owned - secret
    chart_defaults = yaml.safe_load((CHART / "values.yaml").read_text())["settings"]
    assert chart_defaults["topic_partitions"] == Settings.model_fields["topic_partitions"].default


def test_every_configmap_value_is_one_the_services_read(tmp_path: Path) -> None:
    large = {"max_body_bytes": 10485760, "sink_batch_rows": 1000000, "sink_batch_seconds": 0.5}
    (tmp_path / "large.yaml").write_text(yaml.safe_dump({"settings": large}))
    manifests = render(PRODUCTION, tmp_path / "large.yaml")
    data = find(manifests, "ConfigMap", "hookhouse-settings")["data"]
    assert data["HOOKHOUSE_MAX_BODY_BYTES"] == "10485760"  # not 1.048576e+07
    assert data["HOOKHOUSE_SINK_BATCH_ROWS"] == "1000000"
    assert data["HOOKHOUSE_SINK_BATCH_SECONDS"] == "0.5"
    known = {f"HOOKHOUSE_{name.upper()}" for name in Settings.model_fields}
    assert set(data) - {"HOME"} <= known
    given = {k.removeprefix("HOOKHOUSE_").lower(): v for k, v in data.items() if k != "HOME"}
    Settings.model_validate(given)


@pytest.mark.parametrize("setting", ["config_keys", "clickhouse_url", "kafka_sasl_password"])
def test_a_secret_given_as_a_setting_is_refused(setting: str) -> None:
    error = refusal(sets=(f"settings.{setting}=x",))
    assert f"at '/settings': additional properties '{setting}' not allowed" in error


def test_the_alert_rules_are_deploy_prometheus_s_own(defaults: list[Manifest]) -> None:
    source = (REPO / "deploy" / "prometheus" / "alerts.yml").read_text()
    alerts = find(defaults, "ConfigMap", "hookhouse-alerts")["data"]["hookhouse-alerts.yml"]
    assert alerts.strip() == source.strip()
    rules = render(sets=("metrics.prometheusRule.enabled=true",))
    rule = find(rules, "PrometheusRule", "hookhouse")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["spec"] == yaml.safe_load(source)


def test_topics_and_migrations_run_as_a_job_after_each_install_and_upgrade(
    defaults: list[Manifest],
) -> None:
    job = find(defaults, "Job", "hookhouse-init")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "post-install,post-upgrade"
    assert [c["args"] for c in containers(job)] == [["topics"], ["migrate"]]


def example(name: str) -> dict[str, Manifest]:
    docs = yaml.safe_load_all((EXAMPLES / name).read_text())
    return {doc["kind"]: doc for doc in docs}


def test_the_strimzi_example_is_a_kraft_cluster_that_takes_hookhouse_s_records() -> None:
    kafka, pool = (
        example("strimzi-kafka.yaml")["Kafka"],
        example("strimzi-kafka.yaml")["KafkaNodePool"],
    )
    assert kafka["apiVersion"] == pool["apiVersion"] == "kafka.strimzi.io/v1beta2"
    assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}
    assert pool["spec"]["storage"]["type"] in {"jbod", "persistent-claim", "ephemeral"}
    spec = kafka["spec"]["kafka"]
    assert spec["version"] == kafka_broker.kafka_version()
    assert spec["config"]["message.max.bytes"] == TOPIC_MAX_MESSAGE_BYTES
    for listener in spec["listeners"]:
        assert {"name", "port", "type", "tls"} <= set(listener)
    values = yaml.safe_load(PRODUCTION.read_text())["settings"]
    plain = spec["listeners"][0]
    bootstrap = f"{kafka['metadata']['name']}-kafka-bootstrap:{plain['port']}"
    assert values["kafka_bootstrap"] == bootstrap
    assert values["min_insync_replicas"] == spec["config"]["min.insync.replicas"]
    assert values["replication_factor"] <= pool["spec"]["replicas"]


def test_the_altinity_example_is_a_clickhouse_with_its_keeper() -> None:
    made = example("altinity-clickhouse.yaml")
    keeper, server = made["ClickHouseKeeperInstallation"], made["ClickHouseInstallation"]
    assert keeper["apiVersion"] == "clickhouse-keeper.altinity.com/v1"
    assert server["apiVersion"] == "clickhouse.altinity.com/v1"
    (node,) = server["spec"]["configuration"]["zookeeper"]["nodes"]
    assert node == {"host": f"keeper-{keeper['metadata']['name']}", "port": 2181}
    (cluster,) = server["spec"]["configuration"]["clusters"]
    # hookhouse's tables are replicated (Keeper) and sharded over this cluster.
    assert cluster["layout"] == {"shardsCount": 2, "replicasCount": 2}
    values = yaml.safe_load((EXAMPLES / "production-values.yaml").read_text())["settings"]
    assert values["clickhouse_cluster"] == cluster["name"]
    assert values["clickhouse_replicated"] is True
    pyproject = (REPO / "pyproject.toml").read_text()
    chdb = re.search(r'"chdb-core==(\d+\.\d+)', pyproject)
    assert chdb is not None
    for installation in (keeper, server):
        templates = installation["spec"]["templates"]
        defaults = installation["spec"]["defaults"]["templates"]
        assert defaults["podTemplate"] in {t["name"] for t in templates["podTemplates"]}
        claims = {t["name"] for t in templates["volumeClaimTemplates"]}
        assert defaults["dataVolumeClaimTemplate"] in claims
        for pod in templates["podTemplates"]:
            for container in pod["spec"]["containers"]:
                assert container["image"].endswith(f":{chdb.group(1)}")


@pytest.mark.parametrize("values", [(), (PRODUCTION,)], ids=["defaults", "production"])
def test_helm_lint_finds_nothing(values: tuple[Path, ...]) -> None:
    done = helm("lint", CHART, "--strict", values=values)
    assert done.returncode == 0, done.stdout + done.stderr
