"""Every port the local platforms and the tests' extra processes listen on: one registry.

`make up`, `make bench` and the test platforms run side by side on one machine
(and CI machines are shared), so no two of them may share a port, admin ports
included. Each platform is the catalogue's ports moved by an offset; each extra
process (a second gateway, a web UI of a test's own) has a fixed port and its
admin port ADMIN_SHIFT above it. tests/integration/test_port_registry.py proves
that none of them meet, and that all stay below the kernel's ephemeral range.
"""

from __future__ import annotations

from cnop_catalogue import (
    ALERTMANAGER_PORT,
    COMPONENTS,
    LIMITS_STORE_PORT,
    PROMETHEUS_PORT,
    STORE_PORT,
)

# Where outgoing connections take their local ports (Linux's default
# net.ipv4.ip_local_port_range): a server there may find its port taken.
EPHEMERAL_PORTS_START = 32_768
# An extra process's /metrics: this far above its API port.
ADMIN_SHIFT = 1_000

# Port offsets of the local platforms, by who runs them.
PLATFORMS = {
    "make up": 0,
    "runner test": 2_000,  # tests/integration/test_local_runner.py
    "bench": 4_000,  # cnop_loadtests.gateway_bench
    "session": 10_000,  # the test session's shared platform (conftest.py)
    "capacity": 12_500,  # tests/capacity
    "postdeploy": 13_250,  # tests/postdeploy
    "store outage": 20_000,  # tests/integration/test_store_outage.py
    "faults": 20_500,  # tests/security/test_faults.py
    "lifecycle": 21_250,  # tests/integration/test_local_lifecycle.py
    "observability": 22_000,  # tests/e2e/test_observability.py
}

# Fixed ports of extra processes beside a platform; each also takes port + ADMIN_SHIFT.
EXTRA_PROCESSES = {
    "bench: gateway, cache off": 12_180,
    "bench: nginx auth_request": 12_280,
    "bench: nginx, auth cached": 12_281,
    "bench: trivial upstream": 12_282,
    "bench: nginx in front of the trivial upstream": 12_283,
    "bench: gateway in front of the trivial upstream": 12_380,
    "bench: gateway, two workers": 12_181,
    "bench: gateway, two workers, in front of the trivial upstream": 12_381,
    "bench: gateway under granian, in front of the trivial upstream": 12_382,
    "otlp: inventory": 18_111,
    "otlp: auth": 18_113,
    "revocation: auth with a rotated keyring": 18_103,
    "revocation: second gateway": 18_180,
    "boundary: strictly limited gateway": 18_280,
    "login abuse: guarded gateway": 18_380,
    "web boundary: web UI": 18_430,
    "web boundary: gateway": 18_480,
    "web logout: web UI": 18_530,
    "web logout: gateway": 18_580,
    "slow clients: web UI": 18_630,
    "slow clients: gateway": 18_680,
    "slow clients: auth": 18_683,
    "shared limits: first replica": 18_780,
    "shared limits: second replica": 18_781,
    "shared limits: gateway without its store": 18_782,
    "shared limits: replica whose store comes back": 18_783,
    "shared limits: its peer": 18_784,
    "shared limits: a store that goes and comes back": 18_785,
    # tests/security/test_captured_calls.py: an on-path observer's recording proxies.
    "capture: proxy to the user service": 18_786,
    "capture: proxy to auth": 18_787,
    "capture: gateway through the proxy": 18_788,
    "capture: user service through the proxy": 18_789,
    "nonces: a second user service": 18_790,
    "nonces: a second auth": 18_791,
    "store budgets: gateway with a long cache": 18_880,
    "web loading: web UI": 18_980,
    "workers: gateway of two workers": 18_881,
    "workers: a gateway to stop": 18_882,
    "revocation feed: a limits store of its own": 18_883,
    "workers: user service of two workers": 18_884,
    "refusals: order service with a small value cap": 18_885,
    "nonces: a limits store of its own": 18_886,
    "web proxy: a gateway stand-in": 18_887,
    "limit scripts: a limits store of its own": 18_888,
    "web proxy: a gateway that never accepts": 18_889,
    # `make verify STACK=staging|prod`: kubectl port-forwards to the cluster's query APIs.
    "verify: prometheus port-forward": 18_990,
    "verify: loki port-forward": 18_991,
    "verify: tempo port-forward": 18_992,
}
# Ports a test names on purpose because nothing listens there (a dead upstream).
NOTHING_LISTENS = {
    "web logout: an auth service that is down": 18_599,
    "shared limits: a limits store that is down": 18_799,
    "web proxy: a gateway that is down": 18_798,
}


def extra(name: str) -> int:
    """The fixed port of one extra process (KeyError names an unregistered one)."""
    return EXTRA_PROCESSES[name]


def admin_port(port: int) -> int:
    """The admin (/metrics) port of an extra process on `port`."""
    return port + ADMIN_SHIFT


def base_ports() -> dict[str, int]:
    """Every port of a platform at offset 0, by what listens there."""
    ports = {
        "store": STORE_PORT,
        "limits-store": LIMITS_STORE_PORT,
        "prometheus": PROMETHEUS_PORT,
        "alertmanager": ALERTMANAGER_PORT,
    }
    for component in COMPONENTS:
        ports[component.name] = component.port
        ports[f"{component.name} admin"] = component.admin_port
    return ports


def platform_ports(offset: int) -> dict[str, int]:
    """Every port of a platform at `offset`, by what listens there."""
    return {name: port + offset for name, port in base_ports().items()}
