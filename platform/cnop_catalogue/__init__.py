"""One catalogue of the platform's components: the home of their names and ports.

The local runner, the Pulumi program and the dashboards read this one table, so
they never disagree on names, ports, peers or who is public. It imports nothing
of ours: it sits below cnop_platform and cnop_dashboards, which import it (and
not each other for it). The services do not import it; whoever starts one
(the local runner, the Pulumi program) passes its ports in PORT and ADMIN_PORT.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Footprint:
    """What one replica was measured to take (docs/capacity.md): CPU per request/s of the
    load test's mix (millicores), and resident memory at the knee (MiB, all its processes).

    `workers`: the processes one replica runs on its port (cnop_common/workers.py);
    each makes use of about one core, so the replica's CPU limit is that many cores,
    and the process reads its worker count back from that limit."""

    cpu_millicores_per_rps: float
    memory_mib: int
    workers: int = 1


@dataclass(frozen=True, slots=True)
class Component:
    """A deployable: its name is its folder, image, Kubernetes objects and `service` label."""

    name: str
    module: str  # run as `python -m <module>`
    port: int  # the API: only the callers of the trust model reach it
    # /metrics, apart from the API: only Prometheus reaches it, never a client.
    admin_port: int
    peers: tuple[str, ...] = ()
    public: bool = False
    uses_store: bool = False  # its tables, store settings, egress and IAM follow
    footprint: Footprint = Footprint(1.0, 96)

    @property
    def metrics_port(self) -> int:
        """Where Prometheus scrapes /metrics."""
        return self.admin_port


STORE_PORT = 4566
# The gateways' shared limits (Redis): one store every replica counts in.
LIMITS_STORE_PORT = 6379
PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9093

# In start order: every component's peers come before it.
# Footprints: the step run of docs/capacity.md, at the knee (21.5 req/s of the mix).
# Admin ports: 94xx for the backends (8000 + 1400 + n), so no two test platforms
# whose offsets differ by a round thousand land on each other's ports.
COMPONENTS: tuple[Component, ...] = (
    Component("inventory", "cnop_inventory", 8001, 9401, footprint=Footprint(1.1, 93)),
    Component("auth", "cnop_auth", 8003, 9403, uses_store=True, footprint=Footprint(0.6, 104)),
    Component(
        "user",
        "cnop_user",
        8000,
        9400,
        peers=("inventory", "auth"),
        uses_store=True,
        footprint=Footprint(3.8, 165),
    ),
    Component(
        "order",
        "cnop_order",
        8002,
        9402,
        peers=("inventory",),
        uses_store=True,
        footprint=Footprint(1.5, 110),
    ),
    Component(
        "gateway",
        "cnop_gateway",
        8080,
        9080,
        peers=("auth", "user", "inventory", "order"),
        public=True,
        # Two processes (and their supervisor): the gateway's cost per request is
        # Python CPU, so a second core doubles what one replica can front.
        footprint=Footprint(1.3, 220, workers=2),
    ),
    # The browser's server: pages, and /api/v1 forwarded to the gateway. Not
    # `public`: the gateway is the only Service with a load balancer; people
    # reach the UI through a port-forward, or the stack's TLS Ingress (webIngress).
    Component("web", "cnop_web", 3000, 9300, peers=("gateway",), footprint=Footprint(0.1, 75)),
)

BY_NAME = {component.name: component for component in COMPONENTS}
# Signed identity assertions (cnop_common/assertions.py): a component that calls
# one of our internal services signs its calls; one that such calls reach checks them.
SIGNERS = tuple(c.name for c in COMPONENTS if any(not BY_NAME[p].public for p in c.peers))
VERIFIERS = tuple(
    c.name for c in COMPONENTS if not c.public and any(c.name in o.peers for o in COMPONENTS)
)
STORE_USERS = tuple(sorted(c.name for c in COMPONENTS if c.uses_store))
# Who uses the limits store (Redis): the public gateway for its limits, and every
# component that checks signed calls, for the nonces all its replicas share.
LIMITS_STORE_USERS = tuple(sorted({c.name for c in COMPONENTS if c.public} | set(VERIFIERS)))
# Every image a stack runs: one per component, plus the verification image
# (loadtests/Dockerfile) of the post-deploy check and the in-cluster Locust.
VERIFY_IMAGE = "verify"
IMAGES = (*(component.name for component in COMPONENTS), VERIFY_IMAGE)


def local_web_origins(port_offset: int = 0) -> list[str]:
    """The browser origins of a web UI running on this machine at `port_offset`."""
    port = BY_NAME["web"].port + port_offset
    return [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]
