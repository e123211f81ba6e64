"""`make verify`: a running environment meets its auth, tracing, observability and capacity goals.

Runs the policy suites (tests/postdeploy) against the target, then a capacity
run (a short knee search by default, the full one with --full), then the
observability suite (its panels must have data after the load), and ends with
one screen: each verdict, the knee, and where the reports are.

    python -m cnop_loadtests.verify                      # the local platform (make up)
    python -m cnop_loadtests.verify --stack staging      # a deployed stack, URLs from its file
    python -m cnop_loadtests.verify --target https://...  # any gateway
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

import httpx
import yaml

from cnop_loadtests.cluster_access import forwarded
from cnop_loadtests.run import REPO, STACKS

SUITES = REPO / "tests" / "postdeploy"
CLOUD_STACKS = ("staging", "prod")
LOCAL_ROOT = REPO / "var"
# make up's addresses (the catalogue's ports, offset 0).
LOCAL = {
    "CNOP_TARGET_GATEWAY": "http://127.0.0.1:8080",
    "CNOP_TARGET_PROMETHEUS": "http://127.0.0.1:9090",
    "CNOP_TARGET_ADMIN": "http://127.0.0.1:9080",
    "CNOP_TARGET_ADMIN_EXPOSED": "true",
    "CNOP_TARGET_LOG_DIR": str(LOCAL_ROOT / "log"),
}


# Alerts verify's own attack checks trip on the target (the auth suite guesses
# passwords until the login guard blocks, and presents bad tokens by the dozen):
# firing or pending for a while after a run, and nothing to act on then.
EXPECTED_ALERTS = {
    "SuspiciousLoginActivity": "the auth suite's password guessing and login blocks",
    "AuthValidationFailureRatioHigh": "the auth suite's forged, expired and revoked tokens",
}


@dataclass
class Verdict:
    """One line of the final screen."""

    name: str
    passed: bool
    detail: str
    report: Path


def target_environment(args: argparse.Namespace) -> dict[str, str]:
    """The CNOP_TARGET_* variables the suites read, for the chosen environment."""
    given = {k: v for k, v in os.environ.items() if k.startswith("CNOP_TARGET_")}
    if given.get("CNOP_TARGET_GATEWAY"):
        return given  # set by whoever runs us: the PostSync Job in a cluster
    if args.target:
        return {"CNOP_TARGET_GATEWAY": args.target, "CNOP_TARGET_ADMIN_EXPOSED": "false"}
    if args.stack:
        config = yaml.safe_load((STACKS / f"Pulumi.{args.stack}.yaml").read_text())["config"]
        # The API's own name (its NLB); cnop:domain is the web UI's front door.
        domain = config.get("cnop:apiDomain") or _pulumi_config(args.stack, "cnop:apiDomain")
        env = {
            "CNOP_TARGET_GATEWAY": config.get("cnop:publicUrl", f"https://{domain}"),
            "CNOP_TARGET_ADMIN": f"https://{domain}:9080",
            "CNOP_TARGET_ADMIN_EXPOSED": "false",
        }
        for key, variable in (
            ("cnop:verifyPrometheusUrl", "CNOP_TARGET_PROMETHEUS"),
            ("cnop:verifyLokiUrl", "CNOP_TARGET_LOKI"),
            ("cnop:verifyTempoUrl", "CNOP_TARGET_TEMPO"),
        ):
            if config.get(key):
                env[variable] = str(config[key])
        return env
    return dict(LOCAL)


def _pulumi_config(stack: str, key: str) -> str:
    """A value the account keeps out of the stack file (docs/deploying.md)."""
    try:
        return subprocess.run(
            ["pulumi", "config", "get", "--stack", stack, key],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SystemExit(
            f"{key} is not in Pulumi.{stack}.yaml and `pulumi config get` failed ({exc});"
            " pass --target <gateway URL> instead"
        ) from exc


def run_suite(name: str, module: str, env: dict[str, str], folder: Path) -> Verdict:
    """One policy suite through pytest; its JUnit XML into the run's folder."""
    report = folder / f"{name}.xml"
    print(f"\n== {name} policy ({module})", flush=True)
    started = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(SUITES / module),
            "-q",
            "-p",
            "no:cacheprovider",
            "--no-header",
            f"--junitxml={report}",
        ],
        env={**os.environ, **env},
        cwd=REPO,
        check=False,
    )
    return suite_verdict(name, report, time.monotonic() - started)


def suite_verdict(name: str, report: Path, seconds: float) -> Verdict:
    """Pass only when the suite ran tests and none failed or erred."""
    if not report.exists():
        return Verdict(name, False, "the suite did not run", report)
    suite = ET.parse(report).getroot()  # noqa: S314 - the report our own pytest just wrote
    suite = suite if suite.tag == "testsuite" else suite[0]
    tests = int(suite.get("tests", "0"))
    failed = int(suite.get("failures", "0")) + int(suite.get("errors", "0"))
    skipped = int(suite.get("skipped", "0"))
    passed = tests > 0 and failed == 0 and skipped == 0
    detail = f"{tests - failed - skipped} of {tests} checks passed in {seconds:.0f} s"
    return Verdict(name, passed, detail + (f", {skipped} skipped" if skipped else ""), report)


def run_capacity(args: argparse.Namespace, env: dict[str, str], folder: Path) -> Verdict:
    """The capacity run: a knee search, gated on the SLOs and the stack's minimum throughput."""
    print("\n== capacity (Locust)", flush=True)
    if args.smoke:
        shape = ["--shape=smoke"]
    elif args.full:
        shape = ["--shape=step", "--step-seconds=30", "--max-steps=12"]
    else:
        shape = ["--shape=step", "--step-seconds=12"]
    command = [
        sys.executable,
        "-m",
        "cnop_loadtests.run",
        f"--target={env['CNOP_TARGET_GATEWAY']}",
        *shape,
        f"--stack={args.stack or 'local'}",
        f"--reports={folder}",
        "--run-id=capacity",
    ]
    if os.environ.get("CNOP_MIN_RPS"):
        command.append(f"--min-rps={os.environ['CNOP_MIN_RPS']}")
    if env == LOCAL:  # make up's processes: sample them, to name the one that saturates
        command.append(f"--local-root={LOCAL_ROOT}")
    done = subprocess.run(command, cwd=REPO, check=False)
    summary_file = folder / "capacity" / "summary.json"
    if not summary_file.exists():
        return Verdict(
            "capacity", False, f"the run did not finish (exit {done.returncode})", folder
        )
    summary = json.loads(summary_file.read_text())
    detail = summary["knee"] or f"{summary['shape']} run"
    if summary.get("saturation"):
        detail += f"; {summary['saturation']}"
    failed = [c["name"] for c in summary["checks"] if not c["passed"]]
    if failed:
        detail += "; failed: " + ", ".join(failed)
    return Verdict("capacity", done.returncode == 0, detail, folder / "capacity" / "capacity.html")


def preflight(gateway: str) -> str | None:
    """Why the target cannot be verified at all (nothing listening), or None."""
    try:
        httpx.get(f"{gateway}/health", timeout=10, trust_env=False)
    except httpx.HTTPError as exc:
        hint = "for the local platform, run `make up` first"
        return f"nothing answers at {gateway} ({exc.__class__.__name__}); {hint}"
    return None


def main(argv: list[str] | None = None) -> int:
    """Run every verdict; exit 0 only when all four passed."""
    parser = argparse.ArgumentParser(prog="cnop-verify", description=__doc__)
    parser.add_argument("--stack", choices=("local", "staging", "prod"), default=None)
    parser.add_argument("--target", default=None, help="a gateway's base URL")
    depth = parser.add_mutually_exclusive_group()
    depth.add_argument("--full", action="store_true", help="the full knee search (minutes)")
    depth.add_argument("--smoke", action="store_true", help="a smoke run instead of a knee search")
    parser.add_argument("--reports", type=Path, default=REPO / "var" / "reports")
    args = parser.parse_args(argv)
    env = target_environment(args)
    with ExitStack() as scope:
        if args.stack in CLOUD_STACKS and "CNOP_TARGET_PROMETHEUS" not in env:
            # No public query APIs: reach them through the cluster for this run.
            env.update(scope.enter_context(forwarded(args.stack)))
        return verify(args, env)


def verify(args: argparse.Namespace, env: dict[str, str]) -> int:
    """Run the four verdicts against `env`'s target; print the screen; 0 if all passed."""
    gateway = env["CNOP_TARGET_GATEWAY"]
    problem = preflight(gateway)
    if problem:
        print(f"verify: {problem}", file=sys.stderr)
        return 2
    folder = (args.reports / f"verify-{datetime.now(UTC):%Y%m%dT%H%M%SZ}").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    print(f"verify: {gateway} — reports in {folder}", flush=True)
    verdicts = [
        run_suite("auth", "test_auth_policy.py", env, folder),
        run_suite("tracing", "test_tracing_policy.py", env, folder),
        run_capacity(args, env, folder),
        run_suite("observability", "test_observability_policy.py", env, folder),
    ]
    print(f"\nverify: {gateway}")
    for verdict in verdicts:
        print(f"  {verdict.name:<14} {'PASS' if verdict.passed else 'FAIL'}  {verdict.detail}")
        print(f"  {'':<14}       {verdict.report}")
    print(f"reports: {folder}")
    for line in alerts_note(active_alerts(env.get("CNOP_TARGET_PROMETHEUS"))):
        print(line)
    return 0 if all(v.passed for v in verdicts) else 1


def active_alerts(prometheus: str | None) -> list[dict[str, str]] | None:
    """The alerts firing or pending on the target's Prometheus; None if it cannot say."""
    if not prometheus:
        return None
    try:
        answer = httpx.get(f"{prometheus}/api/v1/alerts", timeout=10, trust_env=False)
        alerts = answer.json()["data"]["alerts"]
    except (httpx.HTTPError, ValueError, KeyError):
        return None
    return [{"name": a["labels"].get("alertname", "?"), "state": a["state"]} for a in alerts]


def alerts_note(alerts: list[dict[str, str]] | None) -> list[str]:
    """What verify left behind: its own expected alerts, apart from any others."""
    lines = ["alerts verify's own attack checks trip (expected for a while after a run):"]
    lines += [f"  {name}: {why}" for name, why in EXPECTED_ALERTS.items()]
    if alerts is None:
        lines.append("alerts now: the target's Prometheus did not answer")
        return lines
    states: dict[str, set[str]] = {}
    for alert in alerts:
        states.setdefault(alert["name"], set()).add(alert["state"])
    expected = sorted(name for name in states if name in EXPECTED_ALERTS)
    others = sorted(name for name in states if name not in EXPECTED_ALERTS)
    shown = ", ".join(f"{name} ({'/'.join(sorted(states[name]))})" for name in expected)
    lines.append(f"alerts now, from verify: {shown or 'none'}")
    if others:
        other_states = ", ".join(f"{name} ({'/'.join(sorted(states[name]))})" for name in others)
        lines.append(f"alerts now, NOT from verify (look at these): {other_states}")
    return lines


if __name__ == "__main__":
    sys.exit(main())
