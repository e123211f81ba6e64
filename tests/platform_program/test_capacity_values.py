"""Resource requests and limits come from the measured footprints (docs/capacity.md) and the
stack's steady rate, not from a guess: each stack's Deployments carry the derived values."""

from __future__ import annotations

import math

import pytest

from cnop_catalogue import COMPONENTS
from cnop_platform.config import stack_file_config
from cnop_platform.render import STACK_NAMES

pytestmark = pytest.mark.unit


def deployment(objects, name):
    (found,) = [o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == name]
    return found


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_requests_cover_each_replicas_share_of_the_steady_rate(objects, stack):
    config = stack_file_config(stack)
    share = float(config["cnop:loadSteadyRps"]) / int(config["cnop:replicas"])
    for component in COMPONENTS:
        (container,) = deployment(objects[stack], component.name)["spec"]["template"]["spec"][
            "containers"
        ]
        requests, limits = container["resources"]["requests"], container["resources"]["limits"]
        cpu = int(requests["cpu"].removesuffix("m"))
        needed = component.footprint.cpu_millicores_per_rps * share
        assert needed <= cpu < max(needed, 100) + 50, (stack, component.name, cpu, needed)
        memory = int(requests["memory"].removesuffix("Mi"))
        assert component.footprint.memory_mib <= memory < component.footprint.memory_mib + 64
        assert limits["memory"] == f"{2 * memory}Mi"
        # One core per worker process, in whole cores: what WORKERS is read back from.
        assert limits["cpu"] == f"{1000 * component.footprint.workers}m"


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_a_multi_process_service_sizes_its_workers_from_its_cpu_limit(objects, stack):
    for component in COMPONENTS:
        (container,) = deployment(objects[stack], component.name)["spec"]["template"]["spec"][
            "containers"
        ]
        env = {variable["name"]: variable for variable in container["env"]}
        if component.footprint.workers == 1:
            assert "WORKERS" not in env, component.name
            continue
        assert env["WORKERS"] == {
            "name": "WORKERS",
            "valueFrom": {
                "resourceFieldRef": {
                    "containerName": component.name,
                    "resource": "limits.cpu",
                    "divisor": "1",
                }
            },
        }
        # Several processes share a rate limit, login guard and revocations only
        # through the limits store: the gateway refuses to start without it.
        limits_store = env.get("LIMITS_STORE_URL", {})
        assert limits_store.get("value") or limits_store.get("valueFrom"), (stack, component.name)


def test_prod_scales_out_before_a_replica_is_saturated(objects):
    hpas = [o for o in objects["prod"] if o["kind"] == "HorizontalPodAutoscaler"]
    assert {h["metadata"]["name"] for h in hpas} == {c.name for c in COMPONENTS}
    for hpa in hpas:
        (metric,) = hpa["spec"]["metrics"]
        assert metric["resource"]["target"]["averageUtilization"] == 70
    # At the steady rate, the busiest service still has room on its replicas.
    config = stack_file_config("prod")
    user = next(c for c in COMPONENTS if c.name == "user")
    per_replica = user.footprint.cpu_millicores_per_rps * float(config["cnop:loadSteadyRps"])
    per_replica /= int(config["cnop:replicas"])
    assert math.ceil(per_replica) < 1000
