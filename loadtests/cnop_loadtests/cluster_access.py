"""What `make verify STACK=staging|prod` reaches inside the cluster from a workstation.

The observability and tracing verdicts read Prometheus, Loki and Tempo, which no
stack exposes publicly. For the length of the run, `kubectl port-forward` (through
the context `make deploy` wrote, `cnop-<stack>`) brings each to a loopback port of
this machine, taken from the port registry; they are ended when the run ends,
whatever its outcome.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from urllib.parse import urlsplit

import httpx

from cnop_platform.components.verification import LOKI, PROMETHEUS, TEMPO
from cnop_platform.local.ports import extra
from cnop_platform.local.processes import end

# Query API → (its in-cluster URL, a path that answers when it is up). The same URLs
# the PostSync Job is given (cnop_platform/components/verification.py).
QUERY_APIS = {
    "CNOP_TARGET_PROMETHEUS": ("prometheus", PROMETHEUS[0], "/-/ready"),
    "CNOP_TARGET_LOKI": ("loki", LOKI[0], "/"),
    "CNOP_TARGET_TEMPO": ("tempo", TEMPO[0], "/ready"),
}
READY_SECONDS = 60.0


def port_forward(stack: str, in_cluster: str, local: int) -> list[str]:
    """The kubectl command that forwards 127.0.0.1:`local` to an in-cluster Service URL."""
    parts = urlsplit(in_cluster)
    assert parts.hostname is not None
    service, namespace = parts.hostname.split(".")[:2]
    return [
        "kubectl",
        "--context",
        f"cnop-{stack}",
        "--namespace",
        namespace,
        "port-forward",
        "--address",
        "127.0.0.1",
        f"service/{service}",
        f"{local}:{parts.port or 80}",
    ]


@contextmanager
def forwarded(stack: str) -> Iterator[dict[str, str]]:
    """The query APIs' CNOP_TARGET_* URLs on loopback, for the length of the block."""
    urls: dict[str, str] = {}
    with ExitStack() as processes:
        for variable, (name, in_cluster, ready_path) in QUERY_APIS.items():
            local = extra(f"verify: {name} port-forward")
            process = subprocess.Popen(
                port_forward(stack, in_cluster, local),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            processes.callback(end, process)
            url = f"http://127.0.0.1:{local}"
            _wait_answering(process, f"{url}{ready_path}", name)
            urls[variable] = url
        yield urls


def _wait_answering(process: subprocess.Popen[str], url: str, name: str) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            said = process.stderr.read() if process.stderr else ""
            raise SystemExit(f"port-forward to {name} ended: {said}")
        try:
            if httpx.get(url, timeout=5, trust_env=False).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{name} did not answer through its port-forward within {READY_SECONDS:.0f} s")
