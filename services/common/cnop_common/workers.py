"""Several processes of one service behind one port: a pod uses every core it is given.

One Python process makes use of about one core. With WORKERS=N (the gateway
sizes N from its pod's CPU limit) the process started as the service becomes a
small supervisor instead:

- it binds the service's port once and starts N workers (`python -m <module>`
  again), each handed the listening socket by file descriptor (WORKER_FD). Each
  new connection goes to whichever worker accepts it first, and a busy worker's
  event loop is late to accept: the idle one takes it;
- it serves /metrics on the admin port for all of them: prometheus_client's
  multiprocess mode, every worker writing its figures to files in a directory
  of the supervisor's (counters and histograms add up; each gauge says how);
- a worker that exits on its own is started again at once (its socket never
  closed, so clients see no refused connection); more than RESTARTS_PER_MINUTE
  such exits in a minute mean something is wrong with the service, not the
  worker: the supervisor stops the others and exits non-zero, for supervisord or
  Kubernetes to restart the whole;
- SIGTERM or SIGINT stops every worker the way uvicorn stops (in-flight requests
  finish) and then the supervisor; workers get SIGTERM if the supervisor dies
  however it dies (PR_SET_PDEATHSIG).

State a worker keeps in memory is per worker: a service may run several only
if every limit that must hold across them is shared (the gateway refuses
WORKERS > 1 without its limits store).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import CollectorRegistry, multiprocess, start_http_server

from cnop_common.logging import configure_logging, get_logger

log = get_logger("workers")

WORKER_FD = "WORKER_FD"  # set only in a worker: the listening socket's descriptor
SUPERVISOR_PID = "WORKER_SUPERVISOR_PID"  # a worker checks its parent is still this
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own variable
RESTARTS_PER_MINUTE = 5
STOP_SECONDS = 15.0  # uvicorn's graceful shutdown (5 s) with room; then SIGKILL
BACKLOG = 2048
PR_SET_PDEATHSIG = 1
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def worker_socket() -> socket.socket | None:
    """In a worker, the listening socket its supervisor handed it; None otherwise.

    Also asks the kernel for SIGTERM when the supervisor dies, and exits at once
    if it already has (it may have died while this interpreter started)."""
    fd = os.environ.get(WORKER_FD)
    if fd is None:
        return None
    # The supervisor waits for signals with them blocked; a worker must receive them.
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if str(os.getppid()) != os.environ.get(SUPERVISOR_PID):
        sys.exit("the worker supervisor ended before this worker started")
    return socket.socket(fileno=int(fd))


@dataclass
class Pool:
    """The workers of one service and what the supervisor knows of them."""

    module: str
    listener: socket.socket
    metrics_dir: Path
    count: int
    workers: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    exits: deque[float] = field(default_factory=deque)

    def start_one(self) -> None:
        """Start a worker with the socket, the metrics directory and this process's pid."""
        fd = self.listener.fileno()
        env = {
            **os.environ,
            WORKER_FD: str(fd),
            SUPERVISOR_PID: str(os.getpid()),
            MULTIPROC_DIR: str(self.metrics_dir),
        }
        # The module is the service's own, named by its __main__, never outside input.
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", self.module], env=env, pass_fds=(fd,)
        )
        self.workers[process.pid] = process

    def reap(self) -> list[tuple[int, int]]:
        """Forget the workers that have exited: their pids and exit codes."""
        gone = []
        for pid, process in list(self.workers.items()):
            code = process.poll()
            if code is not None:
                del self.workers[pid]
                multiprocess.mark_process_dead(pid, str(self.metrics_dir))  # type: ignore[no-untyped-call]
                gone.append((pid, code))
        return gone

    def too_many_exits(self, now: float) -> bool:
        """Record one unexpected exit; True past RESTARTS_PER_MINUTE within a minute."""
        self.exits.append(now)
        while self.exits and self.exits[0] < now - 60:
            self.exits.popleft()
        return len(self.exits) > RESTARTS_PER_MINUTE

    def stop(self) -> None:
        """SIGTERM to every worker; SIGKILL to any still running after STOP_SECONDS."""
        for process in self.workers.values():
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for process in self.workers.values():
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.reap()


def run_workers(
    service: str,
    module: str,
    *,
    count: int,
    host: str,
    port: int,
    admin_port: int | None,
    log_level: str = "INFO",
    log_file: Path | None = None,
) -> int:
    """Supervise `count` workers of `module` on host:port until told to stop; the exit code."""
    configure_logging(service, log_level, log_file)
    # Blocked before any thread starts (the metrics server's inherits the mask), so
    # they wait for sigtimedwait below; each worker unblocks them (worker_socket).
    signal.pthread_sigmask(signal.SIG_BLOCK, {*STOP_SIGNALS, signal.SIGCHLD})
    listener = socket.create_server((host, port), backlog=BACKLOG)
    listener.set_inheritable(True)
    metrics_dir = Path(tempfile.mkdtemp(prefix=f"cnop-{service}-metrics-"))
    pool = Pool(module, listener, metrics_dir, count)
    try:
        if admin_port is not None:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=str(metrics_dir))  # type: ignore[no-untyped-call]
            start_http_server(admin_port, addr=host, registry=registry)
        for _ in range(pool.count):
            pool.start_one()
        log.info("workers_started", workers=count, pids=sorted(pool.workers))
        return _supervise(pool)
    finally:
        pool.stop()
        listener.close()
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _supervise(pool: Pool) -> int:
    """Restart workers that exit on their own until a stop signal, or too many exits."""
    while True:
        # A timeout too: SIGCHLD can coalesce, and reap() looks at every worker anyway.
        received = signal.sigtimedwait({*STOP_SIGNALS, signal.SIGCHLD}, 1.0)
        if received is not None and received.si_signo in STOP_SIGNALS:
            log.info("workers_stopping", signal=signal.Signals(received.si_signo).name)
            return 0
        for pid, code in pool.reap():
            log.error("worker_exited", pid=pid, exit_code=code)
            if pool.too_many_exits(time.monotonic()):
                log.error("workers_failing", exits_per_minute=len(pool.exits))
                return 1
            pool.start_one()
