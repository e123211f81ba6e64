"""make verify STACK=…: the target is the API's own name, the query APIs come through
kubectl port-forwards on registered loopback ports (no cluster here: the commands)."""

from __future__ import annotations

import argparse

import pytest

from cnop_loadtests import verify
from cnop_loadtests.cluster_access import QUERY_APIS, port_forward
from cnop_platform.local.ports import extra

pytestmark = pytest.mark.unit


def test_each_query_api_is_forwarded_through_the_deploys_context_to_loopback():
    commands = {
        variable: port_forward("prod", in_cluster, extra(f"verify: {name} port-forward"))
        for variable, (name, in_cluster, _ready) in QUERY_APIS.items()
    }
    assert set(commands) == {"CNOP_TARGET_PROMETHEUS", "CNOP_TARGET_LOKI", "CNOP_TARGET_TEMPO"}
    for command in commands.values():
        assert command[command.index("--context") + 1] == "cnop-prod"
        assert command[command.index("--namespace") + 1] == "monitoring"
        assert command[command.index("--address") + 1] == "127.0.0.1"
    assert commands["CNOP_TARGET_PROMETHEUS"][-2:] == [
        "service/kube-prometheus-stack-prometheus",
        "18990:9090",
    ]
    # Loki's gateway Service listens on 80 (its nginx on 8080 in the pod).
    assert commands["CNOP_TARGET_LOKI"][-2:] == ["service/loki-gateway", "18991:80"]
    assert commands["CNOP_TARGET_TEMPO"][-2:] == ["service/tempo", "18992:3200"]


def test_a_stack_is_verified_at_the_apis_own_name(monkeypatch):
    monkeypatch.delenv("CNOP_TARGET_GATEWAY", raising=False)
    monkeypatch.setattr(
        verify, "_pulumi_config", lambda stack, key: {"cnop:apiDomain": "api.shop.test"}[key]
    )
    env = verify.target_environment(argparse.Namespace(stack="prod", target=None))
    assert env["CNOP_TARGET_GATEWAY"] == "https://api.shop.test"
    assert env["CNOP_TARGET_ADMIN_EXPOSED"] == "false"
    assert "CNOP_TARGET_PROMETHEUS" not in env  # so the run forwards the query APIs
