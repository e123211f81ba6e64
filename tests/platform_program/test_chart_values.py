"""Our Helm values against the constraints of the pinned charts.

Facts about a chart are quoted from its values.yaml and templates at the
pinned version (grafana/loki production/helm/loki 6.35, kube-prometheus-stack,
grafana/helm-charts tempo, grafana/alloy), and the chart's own validation is
re-stated here as code, so a value the chart would refuse fails this suite
instead of a first `pulumi up`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from cnop_platform.components.monitoring_storage import (
    API_SERVER_SERIES,
    SERIES_PER_NODE,
    metrics_retention_days,
    prometheus_volume_gib,
    series_estimate,
)
from cnop_platform.components.monitoring_values import (
    ALLOY_CONFIG,
    CHARTS,
    Receiver,
    chart_values,
    runbook_base_url,
)
from cnop_platform.config import StackConfig
from cnop_platform.render import SECRET_SIG, STACK_NAMES, STAND_IN, render_config, run

pytestmark = pytest.mark.unit

# loki chart 6.35 values.yaml defaults our values merge onto.
LOKI_DEFAULTS = {
    "deploymentMode": "SimpleScalable",
    "singleBinary": {"replicas": 0},
    "read": {"replicas": 3},
    "write": {"replicas": 3},
    "backend": {"replicas": 3},
    "chunksCache": {"enabled": True, "allocatedMemory": 8192},
    "resultsCache": {"enabled": True, "allocatedMemory": 1024},
    "lokiCanary": {"enabled": True},
    "test": {"enabled": True},
    "loki": {"useTestSchema": False, "storage": {"type": "s3"}},
}


def merged(defaults, values):
    out = dict(defaults)
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def loki_validation(values) -> list[str]:
    """templates/validate.yaml of the loki chart 6.35, as code: the messages it fails with."""
    failures = []
    single = values["singleBinary"]["replicas"]
    filesystem = values["loki"]["storage"]["type"] == "filesystem"
    scalable = any(values[t]["replicas"] > 0 for t in ("read", "write", "backend"))
    if values["test"]["enabled"] and not values["lokiCanary"]["enabled"]:
        failures.append("Helm test requires the Loki Canary to be enabled")
    if filesystem and single > 1:
        failures.append("Cannot run more than 1 Single Binary replica without object storage")
    if filesystem and single == 0 and scalable:
        failures.append("Cannot run scalable targets without an object storage backend")
    if single > 0 and scalable and values["deploymentMode"] != "SingleBinary<->SimpleScalable":
        failures.append("replicas for both the single binary and simple scalable targets")
    if not values["loki"].get("schemaConfig") and not values["loki"]["useTestSchema"]:
        failures.append("You must provide a schema_config for Loki")
    return failures


def config(stack: str) -> StackConfig:
    return StackConfig.from_flat(render_config(stack))


def release(resources, chart):
    """A release's inputs, its values unwrapped where a secret (the alert receiver's
    address) made Pulumi mark them all secret."""
    (found,) = [
        inputs
        for typ, _name, inputs in resources
        if typ == "kubernetes:helm.sh/v3:Release" and inputs["chart"] == chart
    ]
    values = found["values"]
    if isinstance(values, dict) and values.get(SECRET_SIG) is not None:
        return {**found, "values": values["value"]}
    return found


def values_of(stack: str, bucket: str | None = None):
    return chart_values(config(stack), Receiver("none"), bucket)


def test_the_validation_restated_refuses_what_the_old_values_were():
    old = {
        "deploymentMode": "SingleBinary",
        "singleBinary": {"replicas": 1},
        "loki": {"storage": {"type": "filesystem"}, "schemaConfig": {"configs": []}},
    }
    assert loki_validation(merged(LOKI_DEFAULTS, old))


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_loki_values_pass_the_charts_own_validation(stack):
    bucket = "loki-bucket" if stack != "local" else None
    values = merged(LOKI_DEFAULTS, values_of(stack, bucket)["loki"])
    assert loki_validation(values) == []
    assert values["singleBinary"]["replicas"] == 1
    # No memcached asking for ~9 GiB beside a single binary.
    assert not values["chunksCache"]["enabled"]
    assert not values["resultsCache"]["enabled"]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_loki_keeps_chunks_in_the_stacks_bucket_with_its_volume_on_gp3(declared, stack):
    loki = release(declared[stack], "loki")
    values = loki["values"]
    assert values["loki"]["storage"]["type"] == "s3"
    assert values["loki"]["storage"]["bucketNames"]["chunks"]
    assert values["loki"]["schemaConfig"]["configs"][0]["object_store"] == "s3"
    assert values["singleBinary"]["persistence"]["storageClass"] == "gp3"
    associations = {
        (i["namespace"], i["serviceAccount"])
        for t, _n, i in declared[stack]
        if t == "aws:eks/podIdentityAssociation:PodIdentityAssociation"
    }
    assert ("monitoring", "loki") in associations


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_log_retention_is_enforced_by_the_compactor(stack):
    loki = values_of(stack)["loki"]["loki"]
    assert loki["compactor"]["retention_enabled"] is True
    # Loki refuses retention without a store for delete requests.
    assert loki["compactor"]["delete_request_store"] == loki["storage"]["type"]
    assert loki["limits_config"]["retention_period"].endswith("h")


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_metrics_are_kept_for_the_slo_windows_on_a_volume_that_holds_them(stack):
    spec = values_of(stack)["kube-prometheus-stack"]["prometheus"]["prometheusSpec"]
    assert metrics_retention_days(config(stack)) >= 30
    assert spec["retention"] == f"{metrics_retention_days(config(stack))}d"
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    volume = int(claim["resources"]["requests"]["storage"].removesuffix("Gi"))
    assert volume == prometheus_volume_gib(config(stack))
    # retentionSize below the volume: blocks are dropped before the disk fills.
    assert int(spec["retentionSize"].removesuffix("GB")) < volume
    alertmanager = values_of(stack)["kube-prometheus-stack"]["alertmanager"]["alertmanagerSpec"]
    assert alertmanager["storage"]["volumeClaimTemplate"]["spec"]["resources"]
    tempo = values_of(stack)["tempo"]["persistence"]
    assert tempo["enabled"] is True


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_metrics_volume_counts_the_api_servers_series(stack):
    """kube-prometheus-stack scrapes the API server unless `kubeApiServer.enabled` is
    false (75.15.0 values.yaml); on EKS it is the largest source of series."""
    values = values_of(stack)["kube-prometheus-stack"]
    assert values.get("kubeApiServer", {}).get("enabled", True) is True
    assert series_estimate(config(stack)) >= API_SERVER_SERIES + SERIES_PER_NODE * 4
    # 30 days of that, compressed, with headroom: more than the old flat 10 GiB.
    assert prometheus_volume_gib(config(stack)) > 10


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_no_cluster_posts_alerts_to_a_loopback_address(declared, stack):
    kps = release(declared[stack], "kube-prometheus-stack")
    assert "127.0.0.1" not in json.dumps(kps["values"]["alertmanager"])


@pytest.mark.parametrize("kind", ["webhook", "slack", "pagerduty"])
def test_each_receiver_kind_reaches_the_configured_address(kind):
    values = chart_values(config("prod"), Receiver(kind, "https://hooks.test/x"))
    receivers = {
        r["name"]: r for r in values["kube-prometheus-stack"]["alertmanager"]["config"]["receivers"]
    }
    assert set(receivers) == {"page", "ticket", "null"}
    page = receivers["page"][f"{kind}_configs"][0]
    assert "https://hooks.test/x" in page.values()
    assert receivers["null"] == {"name": "null"}


def test_the_receiver_address_is_a_pulumi_secret():
    mocks = run(
        "prod", {"cnop:alertReceiver": "slack", "cnop:alertReceiverUrl": "https://hooks.test/s"}
    )
    (raw,) = [
        inputs
        for typ, _name, inputs in mocks.resources
        if typ == "kubernetes:helm.sh/v3:Release" and inputs["chart"] == "kube-prometheus-stack"
    ]
    # Mocks hand secrets back wrapped in Pulumi's marker: the value never travels bare.
    assert SECRET_SIG in json.dumps(raw["values"])


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_control_plane_parts_eks_hides_raise_no_alerts(stack):
    values = values_of(stack)["kube-prometheus-stack"]
    for part in ("kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy"):
        assert values[part] == {"enabled": False}
    assert not any(values["defaultRules"]["rules"].values())


def test_grafana_links_a_log_lines_trace_id_to_its_trace():
    grafana = values_of("prod")["kube-prometheus-stack"]["grafana"]
    sources = {source["uid"]: source for source in grafana["additionalDataSources"]}
    assert {"loki", "tempo"} <= set(sources)
    (derived,) = sources["loki"]["jsonData"]["derivedFields"]
    assert derived["datasourceUid"] == "tempo"
    assert derived["matcherRegex"] == "trace_id"  # Alloy's structured metadata key
    assert "trace_id" in ALLOY_CONFIG
    assert sources["tempo"]["jsonData"]["tracesToLogsV2"]["datasourceUid"] == "loki"


def test_alloy_ships_each_log_line_once():
    values = values_of("prod")["alloy"]["alloy"]
    assert values["clustering"]["enabled"] is True
    block = re.search(
        r'loki\.source\.kubernetes "cnop" \{(.*?)\n\}', values["configMap"]["content"], re.S
    )
    assert block is not None
    assert "clustering { enabled = true }" in block.group(1)


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_alerts_link_their_runbooks_absolutely(declared, stack):
    # The rules template runbook_url on this external label (cnop_alerts.model).
    kps = release(declared[stack], "kube-prometheus-stack")
    base = kps["values"]["prometheus"]["prometheusSpec"]["externalLabels"]["runbook_base_url"]
    revision = config(stack).git_revision
    assert base == f"https://{STAND_IN}.invalid/cnop/blob/{revision}/docs/runbooks/"


def test_a_runbook_base_url_wins_and_a_stack_without_a_repository_links_its_checkout():
    chosen = StackConfig.from_flat(
        {**render_config("staging"), "cnop:runbookBaseUrl": "https://wiki.example.org/runbooks/"}
    )
    assert runbook_base_url(chosen) == "https://wiki.example.org/runbooks/"
    local = config("local").model_copy(update={"git_repo": None})
    base = runbook_base_url(local)
    assert base.startswith("file:///")
    assert (Path(urlparse(base).path) / "AuthServiceDown.md").is_file()


def test_a_runbook_base_url_must_be_absolute_and_end_in_a_slash():
    for bad in ("docs/runbooks/", "https://wiki.example.org/runbooks", "http://plain.example/"):
        with pytest.raises(ValueError, match=r"runbookBaseUrl|runbook_base_url"):
            StackConfig.from_flat({**render_config("staging"), "cnop:runbookBaseUrl": bad})


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_grafanas_admin_password_is_generated_never_the_charts_default(declared, stack):
    """kube-prometheus-stack sets `grafana.adminPassword: prom-operator`; the grafana
    chart uses `admin.existingSecret` (its keys `admin.userKey`/`admin.passwordKey`)
    instead when it is set."""
    grafana = release(declared[stack], "kube-prometheus-stack")["values"]["grafana"]
    assert "adminPassword" not in grafana
    assert grafana["admin"] == {
        "existingSecret": "grafana-admin",
        "userKey": "admin-user",
        "passwordKey": "admin-password",
    }
    (secret,) = [
        inputs
        for typ, name, inputs in declared[stack]
        if typ == "kubernetes:core/v1:Secret" and name == "grafana-admin"
    ]
    (generated,) = [
        inputs
        for typ, name, inputs in declared[stack]
        if typ == "random:index/randomPassword:RandomPassword" and name == "grafana-admin"
    ]
    assert generated["length"] >= 32
    # The password reaches the Secret as Pulumi's secret, from the generated one.
    data = secret["stringData"]
    assert data[SECRET_SIG]
    assert data["value"]["admin-password"] == "mock-password-grafana-admin"


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_no_webhook_waits_behind_the_monitoring_namespaces_isolation(declared, stack):
    """kube-prometheus-stack 75.15.0 registers the operator's validating and mutating
    webhooks (templates/prometheus-operator/admission-webhooks/) while
    `prometheusOperator.admissionWebhooks.enabled` is true, its default; the API
    server's calls would meet the monitoring namespace's default-deny ingress."""
    values = release(declared[stack], "kube-prometheus-stack")["values"]
    assert values["prometheusOperator"]["admissionWebhooks"]["enabled"] is False


def test_the_deprecated_tempo_chart_is_kept_at_the_version_its_plan_names():
    """grafana/helm-charts' single-binary `tempo` chart is deprecated upstream; the plan
    for leaving it is in docs/deploying.md ("Checking the pins"). A bump of this pin
    means reading that plan again, and changing both together."""
    assert CHARTS["tempo"] == ("https://grafana.github.io/helm-charts", "1.23.3")
    plan = (Path(__file__).resolve().parents[2] / "docs" / "deploying.md").read_text()
    assert "pinned 1.23.3" in plan
