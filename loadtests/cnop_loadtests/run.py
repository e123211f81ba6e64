"""`python -m cnop_loadtests.run`: one capacity run — Locust, sampling, analysis, gate, reports.

Exit 0 when every check of the gate passed, 1 when one failed, 2 when the run
itself could not be made. Reports go to <reports>/<run id>/: junit.xml,
capacity.html, summary.json, Locust's own locust.html and CSV files.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

import yaml

from cnop_loadtests.analysis import load_phases, measure, verdict
from cnop_loadtests.gate import Budget
from cnop_loadtests.invariants import check_accounts
from cnop_loadtests.plans import SHAPE_NAMES, ShapeSettings, plan
from cnop_loadtests.report import step_lines, write_reports
from cnop_loadtests.sampler import ProcessSampler, Sample
from cnop_loadtests.stats import Timeline
from cnop_platform.local.processes import end
from cnop_platform.local.supervision import Supervisor
from cnop_policies import slo

LOADTESTS = Path(__file__).resolve().parents[1]
REPO = LOADTESTS.parent
LOCUSTFILE = LOADTESTS / "locustfile.py"
STACKS = REPO / "platform" / "stacks"
# Each local virtual user sends from its own address here (the gateway's per-address
# limit then sees many clients, as in production).
LOCAL_SOURCE_NETWORK = "127.1.0.0/16"
# Time Locust may need beyond its plan: spawning, stopping users, writing files.
GRACE_SECONDS = 90
MASTER_PORT = 5557


def stack_load_targets(stack: str) -> dict[str, float]:
    """The stack file's load figures: steady rate, minimum throughput, worker count."""
    config = yaml.safe_load((STACKS / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {
        "steady_rps": float(config["cnop:loadSteadyRps"]),
        "min_rps": float(config["cnop:loadMinRps"]),
        "workers": float(config.get("cnop:loadWorkers", 0)),
    }


def local_pids(root: Path) -> dict[str, int]:
    """Pids of a local platform's running processes, as its supervisord knows them."""
    return Supervisor(root).pids()


def locust_commands(
    args: argparse.Namespace, folder: Path, settings: ShapeSettings
) -> list[list[str]]:
    """The Locust command lines: one process, or a master and its workers."""
    base = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
    options = [
        f"--cnop-{f.name.replace('_', '-')}={getattr(settings, f.name)}" for f in fields(settings)
    ]
    if args.knee_rps:
        options.append(f"--cnop-knee-rps={args.knee_rps}")
    if args.source_network:
        options.append(f"--cnop-source-network={args.source_network}")
    master = [
        *base,
        "--headless",
        "--host",
        args.target,
        "--only-summary",
        "--exit-code-on-error=0",
        f"--cnop-out={folder}",
        f"--csv={folder / 'locust'}",
        f"--html={folder / 'locust.html'}",
        *options,
    ]
    if not args.workers:
        return [master]
    port = str(args.master_port)
    master += ["--master", "--master-bind-host=127.0.0.1", f"--master-bind-port={port}"]
    master += [f"--expect-workers={args.workers}"]
    worker = [*base, "--worker", "--master-host=127.0.0.1", f"--master-port={port}", *options]
    return [master] + [worker] * args.workers


def run_locust(
    commands: list[list[str]],
    env: dict[str, str],
    seconds: float,
    folder: Path,
    pids: dict[str, int],
) -> tuple[int, list[Sample]]:
    """Run Locust to the end of its plan (bounded), sampling the processes and Locust itself."""
    log = (folder / "locust.log").open("ab")
    processes = [
        subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        for command in commands
    ]
    # The load generator is sampled too: if it saturates first, the knee is its own.
    watched = {**pids, **{f"locust-{n}": p.pid for n, p in enumerate(processes)}}
    sampler = ProcessSampler(watched).__enter__()
    done = threading.Event()

    def progress() -> None:
        started = time.monotonic()
        while not done.wait(15):
            print(f"  … {time.monotonic() - started:.0f} s of about {seconds:.0f} s", flush=True)

    threading.Thread(target=progress, daemon=True).start()
    try:
        code = processes[0].wait(timeout=seconds + GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        code = -1
    finally:
        done.set()
        sampler.__exit__()
        for process in processes:
            end(process)
        log.close()
    return code, sampler.samples


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="cnop-capacity", description=__doc__)
    parser.add_argument("--target", default="http://127.0.0.1:8080", help="the gateway's base URL")
    parser.add_argument("--shape", choices=SHAPE_NAMES, default="smoke")
    parser.add_argument("--stack", default="local", help="whose load figures (platform/stacks)")
    parser.add_argument(
        "--local-root", type=Path, help="a local platform's folder: sample its processes"
    )
    parser.add_argument("--reports", type=Path, default=REPO / "var" / "reports")
    parser.add_argument("--run-id", default="")
    parser.add_argument("--workers", type=int, default=0, help="Locust workers (0: one process)")
    parser.add_argument("--master-port", type=int, default=MASTER_PORT)
    parser.add_argument(
        "--source-network", default=None, help="default: 127.1.0.0/16 for a local target"
    )
    parser.add_argument(
        "--knee-rps", type=float, default=0.0, help="stress: the knee found earlier"
    )
    parser.add_argument("--min-rps", type=float, default=None, help="default: the stack's")
    for f in fields(ShapeSettings):
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), default=None)
    args = parser.parse_args(argv)
    if args.source_network is None and args.target.startswith(("http://127.", "http://localhost")):
        args.source_network = LOCAL_SOURCE_NETWORK
    return args


def main(argv: list[str] | None = None) -> int:
    """Run, analyse, report; the exit code is the gate's verdict."""
    args = parse(argv)
    targets = stack_load_targets(args.stack)
    overrides = {f.name: getattr(args, f.name) for f in fields(ShapeSettings)}
    overrides = {k: v for k, v in overrides.items() if v is not None}
    settings = ShapeSettings(**{"steady_rps": targets["steady_rps"], **overrides})
    min_rps = args.min_rps if args.min_rps is not None else targets["min_rps"]
    run_id = args.run_id or f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{args.shape}"
    folder = (args.reports / run_id).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    seconds = sum(stage.seconds for stage in plan(args.shape, settings, args.knee_rps or None))
    print(f"capacity: {args.shape} run against {args.target} for about {seconds:.0f} s", flush=True)

    pids = local_pids(args.local_root) if args.local_root else {}
    env = {**os.environ, "CNOP_SHAPE": args.shape}
    code, samples = run_locust(locust_commands(args, folder, settings), env, seconds, folder, pids)
    if code != 0 or not (folder / "timeline.json").exists():
        print(f"capacity: Locust ended with {code}; see {folder / 'locust.log'}", file=sys.stderr)
        return 2

    budget = Budget.from_slos(slo.load())
    timeline = Timeline.from_json(json.loads((folder / "timeline.json").read_text()))
    result = measure(args.shape, timeline, load_phases(folder), samples, budget)
    accounts = json.loads((folder / "accounts.json").read_text())
    print(f"  checking the invariants of {len(accounts)} accounts", flush=True)
    result.violations = check_accounts(args.target, accounts)
    result.checks = verdict(result, min_rps)
    write_reports(folder, result, run_id)

    for line in step_lines(result):
        print(f"  {line}")
    for check in result.checks:
        mark = "pass" if check.passed else "FAIL"
        print(f"  {mark}  {check.name}: {check.measured} (allowed {check.limit})")
    for violation in result.violations[:20]:
        print(f"  violation: {violation}")
    if result.knee:
        print(f"  {result.knee.describe(budget)}")
    if result.saturation:
        print(f"  {result.saturation_line()}")
    print(f"capacity: reports in {folder}")
    return 0 if all(check.passed for check in result.checks) else 1


if __name__ == "__main__":
    sys.exit(main())
