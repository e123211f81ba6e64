"""A gateway of several worker processes on one port (cnop_common/workers.py, issue 23).

A pod's gateway runs one process per core of its CPU limit. What must hold:
every worker serves the port; what one worker counts, blocks or revokes, the
others see (the limits store is shared, not their memory); /metrics counts the
requests of all of them; a worker that dies is replaced while the port keeps
answering; stopping the supervisor, however, stops them all.

Which worker serves a request is the kernel's choice, so the tests find out:
the established socket of each client connection belongs to one worker's pid
(`ss -tnp`), and a test sends through connections it knows land on each worker.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from functools import partial

import httpx
import pytest

from cnop_common.workers import RESTARTS_PER_MINUTE
from cnop_platform.local.ports import admin_port, extra
from tests.helpers import (
    GATEWAY_MARKERS,
    assert_one_budget_per_window,
    eventually,
    extra_process,
    gateway_user,
    signer_of,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PORT = extra("workers: gateway of two workers")
ADMIN = f"http://127.0.0.1:{admin_port(PORT)}"
LIMITS = {"WORKERS": "2", "RATE_LIMIT_PER_MINUTE": "6", "AUTH_CACHE_SECONDS": "30"}
BALANCE = "/api/v1/balance"


@pytest.fixture(scope="module")
def two_workers(local_platform) -> Iterator[str]:
    with extra_process(local_platform, "gateway", PORT, **LIMITS) as url:
        yield url


def listeners(port: int) -> set[int]:
    """Every pid holding the listening socket of `port` (the supervisor and its workers)."""
    out = subprocess.run(
        ["ss", "-ltnpH", f"sport = :{port}"], check=True, capture_output=True, text=True
    ).stdout
    return {int(pid) for pid in re.findall(r"pid=(\d+)", out)}


def parent(pid: int) -> int:
    """The parent pid of a process (from /proc)."""
    stat = open(f"/proc/{pid}/stat").read()  # noqa: SIM115
    return int(stat.rsplit(")", 1)[1].split()[1])


def supervisor_and_workers(port: int) -> tuple[int, set[int]]:
    """The supervisor's pid and its workers' pids, as the listening socket shows them."""
    holders = listeners(port)
    supervisors = {pid for pid in holders if parent(pid) not in holders}
    assert len(supervisors) == 1, f"one supervisor expected among {holders}"
    supervisor = supervisors.pop()
    return supervisor, {pid for pid in holders if parent(pid) == supervisor}


def owner(port: int, client_port: int) -> int:
    """The pid that accepted the connection from `client_port` to `port`."""
    out = subprocess.run(
        ["ss", "-tnpH", "state", "established", f"( sport = :{port} and dport = :{client_port} )"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    pids = {int(pid) for pid in re.findall(r"pid=(\d+)", out)}
    # The listening socket's holders all share the accepted one until the accept; a
    # served connection is held by exactly the worker that answered on it.
    assert len(pids) == 1, out
    return pids.pop()


def pinned_clients(
    url: str, workers: set[int], stack: ExitStack, address: str, port: int = PORT
) -> dict[int, httpx.Client]:
    """One kept-alive client connection per worker, found by opening fresh ones from
    `address` (a test's own: its rate budget is nobody else's). Only /health is sent,
    which costs no budget."""
    found: dict[int, httpx.Client] = {}
    for _ in range(60):
        client = stack.enter_context(
            httpx.Client(
                base_url=url,
                transport=httpx.HTTPTransport(local_address=address),
                trust_env=False,
                timeout=30,
            )
        )
        answer = client.get("/health")
        assert answer.status_code == 200
        client_port = answer.extensions["network_stream"].get_extra_info("client_addr")[1]
        found.setdefault(owner(port, client_port), client)
        if set(found) == workers:
            return found
    raise AssertionError(f"connections reached only workers {sorted(found)} of {sorted(workers)}")


def test_the_supervisor_runs_the_configured_number_of_workers_on_one_port(two_workers):
    supervisor, workers = supervisor_and_workers(PORT)
    assert len(workers) == 2
    for pid in workers:
        command = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")  # noqa: SIM115
        assert command[1:3] == [b"-m", b"cnop_gateway"]
    # The supervisor serves no request itself: it holds the port for the workers.
    assert supervisor not in workers


def test_a_rate_budget_is_one_budget_across_workers(two_workers):
    _supervisor, workers = supervisor_and_workers(PORT)
    with ExitStack() as stack:
        first, second = pinned_clients(two_workers, workers, stack, "127.9.0.1").values()
        # Alternating workers, one address: six a minute in all, not six per worker.
        # The budget is per minute window (X-RateLimit-Reset names it): fourteen
        # requests give one window at least seven of them, whenever the run starts.
        answers = [(first, second)[index % 2].get("/ready") for index in range(14)]
    windows = assert_one_budget_per_window(answers)
    full = max(windows, key=len)
    assert [answer.status_code for answer in full].count(200) == 6


def test_a_logout_through_one_worker_ends_the_token_on_the_other(
    two_workers, gateway_url, local_platform
):
    user = gateway_user(gateway_url, "workers")
    _supervisor, workers = supervisor_and_workers(PORT)
    with ExitStack() as stack:
        first, second = pinned_clients(two_workers, workers, stack, "127.9.0.2").values()
        # Both workers have validated the token (and cached it for 30 s).
        assert first.get(BALANCE, headers=user.auth).status_code == 200
        assert second.get(BALANCE, headers=user.auth).status_code == 200
        assert first.post("/api/v1/auth/logout", headers=user.auth).status_code == 200
        # No wait: under this budget (6 a minute, under 100) every request is counted
        # in the store with its token's revoked mark (rate_batches.py). Under a larger
        # budget the channel carries it: test_shared_limits.py polls its bound.
        assert second.get(BALANCE, headers=user.auth).status_code == 401


def test_metrics_count_the_requests_of_every_worker(two_workers):
    _supervisor, workers = supervisor_and_workers(PORT)

    def health_count() -> float:
        text = httpx.get(f"{ADMIN}/metrics", trust_env=False).text
        found = re.search(
            r'^http_requests_total\{method="GET",route="/health",service="gateway",'
            r'status="200"\} (\S+)$',
            text,
            re.MULTILINE,
        )
        return float(found.group(1)) if found else 0.0

    with ExitStack() as stack:
        clients = pinned_clients(two_workers, workers, stack, "127.9.0.3")
        # Counted after the connections are found: ten requests through each worker.
        before = health_count()
        for client in clients.values():
            for _ in range(10):
                assert client.get("/health").status_code == 200
    # A worker counts a request just after answering it: poll, within a moment.
    assert eventually(lambda: health_count() - before == 20, timeout=10)
    assert health_count() - before == 20
    text = httpx.get(f"{ADMIN}/metrics", trust_env=False).text
    up_pids = set(re.findall(r'^gateway_limits_store_up\{pid="(\d+)"\} 1\.0$', text, re.MULTILINE))
    assert up_pids == {str(pid) for pid in workers}


def test_a_killed_worker_is_replaced_while_the_port_keeps_answering(two_workers):
    supervisor, workers = supervisor_and_workers(PORT)
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    # The other worker answers meanwhile: the socket was never closed.
    assert httpx.get(f"{two_workers}/health", trust_env=False).status_code == 200

    def replaced() -> set[int]:
        now_supervisor, now_workers = supervisor_and_workers(PORT)
        assert now_supervisor == supervisor
        return now_workers if len(now_workers) == 2 and victim not in now_workers else set()

    after = eventually(replaced, timeout=30)
    assert after, "the killed worker was not replaced"
    assert after & workers == workers - {victim}


def test_stopping_the_supervisor_stops_every_worker(local_platform):
    port = extra("workers: a gateway to stop")
    for how in (signal.SIGTERM, signal.SIGKILL):
        with extra_process(local_platform, "gateway", port, WORKERS="2"):
            supervisor, workers = supervisor_and_workers(port)
            assert len(workers) == 2
            os.kill(supervisor, how)

            assert eventually(partial(_all_gone, workers), timeout=30), (
                f"workers {workers} outlived {how.name}"
            )
            assert not listeners(port)


def _all_gone(pids: set[int]) -> bool:
    return not any(map(_alive, pids))


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped."""
    try:
        stat = open(f"/proc/{pid}/stat").read()  # noqa: SIM115
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def run_with_two_workers_without(platform, component: str, port_name: str, shared: str):
    """Start `component` with WORKERS=2 but without the `shared` store's setting; its end."""
    environment = platform.environment(component)
    environment.update({"WORKERS": "2", "PORT": str(extra(port_name))})
    environment.pop(shared, None)
    return subprocess.run(
        [sys.executable, "-m", f"cnop_{component}"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_workers_without_a_shared_limits_store_refuse_to_start(local_platform):
    done = run_with_two_workers_without(
        local_platform, "gateway", "workers: a gateway to stop", "LIMITS_STORE_URL"
    )
    assert done.returncode != 0
    assert "WORKERS > 1 needs LIMITS_STORE_URL" in done.stderr


def test_workers_that_keep_failing_stop_the_supervisor(local_platform, tmp_path):
    # Only a worker builds the application (and reads the signing key): the supervisor
    # starts, and each worker fails at once. After more than RESTARTS_PER_MINUTE
    # exits in a minute the supervisor gives up, for supervisord or Kubernetes to act.
    environment = local_platform.environment("gateway")
    environment.update(
        {
            "WORKERS": "2",
            "PORT": str(extra("workers: a gateway to stop")),
            "ADMIN_PORT": str(admin_port(extra("workers: a gateway to stop"))),
            "IDENTITY_SIGNING_KEY_FILE": str(tmp_path / "missing.pem"),
            "LOG_FILE": str(tmp_path / "gateway.jsonl"),
        }
    )
    done = subprocess.run(
        [sys.executable, "-m", "cnop_gateway"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    log = (tmp_path / "gateway.jsonl").read_text()
    assert log.count('"worker_exited"') == RESTARTS_PER_MINUTE + 1
    assert '"workers_failing"' in log
    assert not listeners(extra("workers: a gateway to stop"))


def test_a_backend_of_two_workers_accepts_a_signed_call_once_whichever_worker_gets_it(
    local_platform,
):
    # Each worker remembers the nonces it accepted, and claims each in the limits
    # store (NONCE_STORE_URL, required with WORKERS > 1): a call captured on its
    # way to one worker is refused by the other.
    port = extra("workers: user service of two workers")
    with extra_process(local_platform, "user", port, WORKERS="2") as url:
        _supervisor, workers = supervisor_and_workers(port)
        assert len(workers) == 2
        user = gateway_user(local_platform.url("gateway"), "workersreplay")
        signer = signer_of(local_platform, "gateway")
        signed = signer.sign("GET", "/balance", b"", "user", subject=user.username)
        headers = {**GATEWAY_MARKERS, **signed}
        with ExitStack() as stack:
            # The user service trusts 127.0.0.1 only: the connections come from there.
            first, second = pinned_clients(url, workers, stack, "127.0.0.1", port).values()
            assert first.get("/balance", headers=headers).status_code == 200
            replayed = second.get("/balance", headers=headers)
            assert replayed.status_code == 403, replayed.text
            fresh = signer.sign("GET", "/balance", b"", "user", subject=user.username)
            assert second.get("/balance", headers={**GATEWAY_MARKERS, **fresh}).status_code == 200
        user.close()


def test_a_backend_of_several_workers_needs_a_shared_nonce_store(local_platform):
    done = run_with_two_workers_without(
        local_platform, "user", "workers: user service of two workers", "NONCE_STORE_URL"
    )
    assert done.returncode != 0
    assert "WORKERS > 1 needs NONCE_STORE_URL" in done.stderr
