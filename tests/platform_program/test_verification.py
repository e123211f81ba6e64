"""Verification after each deploy, as rendered: the PostSync Job and the in-cluster Locust.

Schema, connectivity and the policy pack cover these objects with the rest
(test_rendered.py, test_network.py, policies/tests); these are the properties
that make them work as a post-deploy gate.
"""

from __future__ import annotations

import pytest

from cnop_catalogue import BY_NAME
from cnop_platform.config import stack_file_config
from cnop_platform.render import STACK_NAMES, run

pytestmark = pytest.mark.unit


def only(objects, kind: str, name: str):
    (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_every_stack_checks_itself_after_each_sync(rendered, objects, stack):
    job = only(objects[stack], "Job", "verify")
    assert "apps/job-cnop-verify.yaml" in rendered[stack]  # what Argo CD syncs
    annotations = job["metadata"]["annotations"]
    assert annotations["argocd.argoproj.io/hook"] == "PostSync"
    assert annotations["argocd.argoproj.io/hook-delete-policy"] == "BeforeHookCreation"
    spec = job["spec"]
    assert spec["backoffLimit"] == 0  # a failed check fails the sync, no retry hides it
    assert 0 < spec["activeDeadlineSeconds"] <= 1800
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    config = stack_file_config(stack)
    if stack == "local":
        assert (
            container["image"] == f"{config['cnop:imageRegistry']}/verify:{config['cnop:imageTag']}"
        )
    else:  # the Application's kustomize override pins registry and digest
        assert container["image"] == "cnop/verify"
    assert "--smoke" in container["args"]
    env = {e["name"]: e["value"] for e in container["env"]}
    gateway = BY_NAME["gateway"]
    assert env["CNOP_TARGET_GATEWAY"] == f"http://gateway.cnop.svc.cluster.local:{gateway.port}"
    assert env["CNOP_TARGET_ADMIN"].endswith(f":{gateway.admin_port}")
    assert env["CNOP_TARGET_ADMIN_EXPOSED"] == "false"
    for query_api in ("CNOP_TARGET_PROMETHEUS", "CNOP_TARGET_LOKI", "CNOP_TARGET_TEMPO"):
        assert ".monitoring.svc.cluster.local" in env[query_api]


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_the_in_cluster_load_generator_is_off_by_default(objects, stack):
    master = only(objects[stack], "Deployment", "loadtest-master")
    worker = only(objects[stack], "Deployment", "loadtest-worker")
    assert master["spec"]["replicas"] == 0
    assert worker["spec"]["replicas"] == 0
    args = master["spec"]["template"]["spec"]["containers"][0]["args"]
    workers = max(1, int(stack_file_config(stack)["cnop:loadWorkers"]))
    assert f"--expect-workers={workers}" in args
    assert "--host=http://gateway.cnop.svc.cluster.local:8080" in args
    worker_args = worker["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--master-host=loadtest-master" in worker_args


def test_switching_the_load_generator_on_runs_the_stacks_worker_count():
    declared = run("prod", {"cnop:loadGenerator": "true"}).objects
    replicas = {
        o["metadata"]["name"]: o["spec"]["replicas"]
        for o in declared
        if o["kind"] == "Deployment" and o["metadata"]["name"].startswith("loadtest-")
    }
    workers = int(stack_file_config("prod")["cnop:loadWorkers"])
    assert workers >= 2
    assert replicas == {"loadtest-master": 1, "loadtest-worker": workers}
