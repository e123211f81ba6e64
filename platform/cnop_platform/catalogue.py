"""One catalogue of the platform's components.

The local runner and the Pulumi program read this one table, so the two never
disagree on names, ports, peers or who is public.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Footprint:
    """What one replica was measured to take (docs/capacity.md): CPU per request/s of the
    load test's mix (millicores), and resident memory at the knee (MiB)."""

    cpu_millicores_per_rps: float
    memory_mib: int


@dataclass(frozen=True, slots=True)
class Component:
    """A deployable: its name is its folder, image, Kubernetes objects and `service` label."""

    name: str
    module: str  # run as `python -m <module>`
    port: int
    peers: tuple[str, ...] = ()
    public: bool = False
    admin_port: int | None = None
    footprint: Footprint = Footprint(1.0, 96)

    @property
    def metrics_port(self) -> int:
        """Where Prometheus scrapes /metrics: the admin port if there is one."""
        return self.admin_port or self.port


STORE_PORT = 4566
PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9093

# In start order: every component's peers come before it.
# Footprints: the step run of docs/capacity.md, at the knee (21.5 req/s of the mix).
COMPONENTS: tuple[Component, ...] = (
    Component("inventory", "cnop_inventory", 8001, footprint=Footprint(1.4, 71)),
    Component("auth", "cnop_auth", 8003, footprint=Footprint(0.8, 92)),
    Component(
        "user", "cnop_user", 8000, peers=("inventory", "auth"), footprint=Footprint(5.3, 118)
    ),
    Component("order", "cnop_order", 8002, peers=("inventory",), footprint=Footprint(2.0, 86)),
    Component(
        "gateway",
        "cnop_gateway",
        8080,
        peers=("auth", "user", "inventory", "order"),
        public=True,
        admin_port=9080,
        footprint=Footprint(1.5, 68),
    ),
    # The browser's server: pages, and /api/v1 forwarded to the gateway. Not
    # `public`: the gateway is the only Service exposed outside the cluster;
    # people reach the UI through a port-forward to localhost:3000.
    Component(
        "web", "cnop_web", 3000, peers=("gateway",), admin_port=9300, footprint=Footprint(0.1, 67)
    ),
)

BY_NAME = {component.name: component for component in COMPONENTS}
# Every image a stack runs: one per component, plus the verification image
# (loadtests/Dockerfile) of the post-deploy check and the in-cluster Locust.
VERIFY_IMAGE = "verify"
IMAGES = (*(component.name for component in COMPONENTS), VERIFY_IMAGE)
