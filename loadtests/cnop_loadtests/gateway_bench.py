"""Benchmark one authenticated GET (/api/v1/balance) through four front doors.

1. the backend directly (with the gateway's headers, no authentication at all);
2. our gateway with a warm validation cache;
3. our gateway with the cache off (every request asks the auth service);
4. Debian's nginx with `auth_request` to the same auth service (GET /auth/verify)
   in front of the same backend: the setup a user would pick instead.

Same load generator (wrk), same connections, threads and duration for all, in
one run on one machine; it prints requests/s, p50 and p99, and the ratios.
Figures, not a pass/fail test: docs/performance.md records a run.

    make bench                      # installs nginx and wrk if missing, then runs this
    .venv/bin/python -m cnop_loadtests.gateway_bench --duration 15 --connections 32
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from cnop_platform.local.runner import LocalPlatform
from cnop_platform.testing import GATEWAY_MARKERS, extra_process, gateway_user, running_platform

REPO = Path(__file__).resolve().parents[2]
ROOT = REPO / "var" / "bench"
OFFSET = 4_000  # its own ports: never disturbs `make up` or the tests
NO_CACHE_PORT = 12_180
NGINX_PORT = 12_280
PATH = "/api/v1/balance"
NGINX_CONF = """
worker_processes 1;  # one process, like our gateway
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/tmp;
  proxy_temp_path {prefix}/tmp;
  fastcgi_temp_path {prefix}/tmp;
  uwsgi_temp_path {prefix}/tmp;
  scgi_temp_path {prefix}/tmp;
  upstream user_backend {{ server 127.0.0.1:{user_port}; keepalive 64; }}
  upstream auth_backend {{ server 127.0.0.1:{auth_port}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location /api/v1/ {{
      auth_request /_auth;
      auth_request_set $auth_user $upstream_http_x_auth_user;
      auth_request_set $auth_role $upstream_http_x_auth_role;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "";
      proxy_set_header X-User-ID $auth_user;
      proxy_set_header X-User-Role $auth_role;
      proxy_set_header X-Source gateway;
      proxy_set_header X-Auth-Service auth-service;
      proxy_pass http://user_backend/;
    }}
    location = /_auth {{
      internal;
      proxy_pass http://auth_backend/auth/verify;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Source gateway;
    }}
  }}
}}
"""
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


@dataclass(frozen=True)
class Result:
    """One wrk run."""

    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int


def parse_wrk(name: str, output: str) -> Result:
    """Requests/sec and the 50th/99th latency percentiles from `wrk --latency` output."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]

    def percentile(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if match is None:
            raise ValueError(f"no {label}th percentile in wrk output")
        return float(match.group(1)) * _UNITS[match.group(2)] * 1000

    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return Result(
        name, rps, percentile("50"), percentile("99"), int(errors.group(1)) if errors else 0
    )


def run_wrk(name: str, url: str, headers: dict[str, str], args: argparse.Namespace) -> Result:
    """Warm up, then measure one target with the shared wrk settings."""
    header_args = [part for key, value in headers.items() for part in ("-H", f"{key}: {value}")]
    base = ["wrk", f"-t{args.threads}", f"-c{args.connections}", *header_args, url]
    subprocess.run([*base[:1], "-d2s", *base[1:]], check=True, capture_output=True)
    done = subprocess.run(
        [*base[:1], f"-d{args.duration}s", "--latency", *base[1:]],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return parse_wrk(name, done.stdout)


@contextmanager
def nginx(platform: LocalPlatform) -> Iterator[str]:
    """Debian's nginx with auth_request in front of the platform's user service."""
    prefix = ROOT / "nginx"
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(NGINX_CONF.format(
        prefix=prefix, port=NGINX_PORT,
        user_port=platform.port("user"), auth_port=platform.port("auth"),
    ))  # fmt: skip
    process = subprocess.Popen(
        ["nginx", "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
        stderr=subprocess.STDOUT, stdout=(prefix / "nginx.out").open("ab"),
    )  # fmt: skip
    url = f"http://127.0.0.1:{NGINX_PORT}"
    try:
        for _ in range(50):
            try:
                httpx.get(url, timeout=0.5)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    """Run all four targets and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per target")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed: run `make bench`, which installs it", file=sys.stderr)
            return 2
    # nginx cannot sign identity assertions, so for a like-for-like comparison the
    # backends check the network and the markers only (development mode allows
    # it); the gateway still signs, so its figures include that cost.
    limits = {
        "RATE_LIMIT_PER_MINUTE": "100000000",
        "LOG_LEVEL": "WARNING",
        "IDENTITY_PUBLIC_KEYS_FILE": "",
    }
    with running_platform(ROOT, OFFSET, env=limits) as platform:
        gateway = platform.url("gateway")
        user = gateway_user(gateway, "bench", deposit="100")
        auth = user.auth
        direct_headers = {**GATEWAY_MARKERS, "X-User-ID": user.username, "X-User-Role": "customer"}
        with extra_process(platform, "gateway", NO_CACHE_PORT, AUTH_CACHE_SECONDS="0",
                           ADMIN_PORT=str(NO_CACHE_PORT + 1000)) as no_cache, \
                nginx(platform) as nginx_url:  # fmt: skip
            for url in (f"{gateway}{PATH}", f"{no_cache}{PATH}", f"{nginx_url}{PATH}"):
                check = httpx.get(url, headers=auth)
                if check.status_code != 200:
                    print(f"setup error: {url} answered {check.status_code}", file=sys.stderr)
                    return 1
            results = [
                run_wrk("backend direct", f"{platform.url('user')}/balance", direct_headers, args),
                run_wrk("gateway, warm cache", f"{gateway}{PATH}", auth, args),
                run_wrk("gateway, cache off", f"{no_cache}{PATH}", auth, args),
                run_wrk("nginx auth_request", f"{nginx_url}{PATH}", auth, args),
            ]
    report(results, args)
    return 0


def report(results: list[Result], args: argparse.Namespace) -> None:
    """The table and the ratios the issue asks for."""
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, GET {PATH}\n")
    print(f"{'target':<22} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for r in results:
        print(f"{r.name:<22} {r.requests_per_second:>9.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f}"
              f" {r.non_2xx:>8}")  # fmt: skip
    direct, warm, cold, nginx_result = results
    ratios = [
        (
            "gateway warm / nginx throughput",
            warm.requests_per_second / nginx_result.requests_per_second,
        ),
        (
            "gateway cold / nginx throughput",
            cold.requests_per_second / nginx_result.requests_per_second,
        ),
        ("gateway warm / direct throughput", warm.requests_per_second / direct.requests_per_second),
    ]
    print()
    for label, ratio in ratios:
        print(f"{label + ':':<36}{ratio:.2f}x")
    print(f"{'gateway warm p50 overhead:':<36}{warm.p50_ms - direct.p50_ms:+.2f} ms")
    print(f"{'nginx p50 overhead:':<36}{nginx_result.p50_ms - direct.p50_ms:+.2f} ms")


if __name__ == "__main__":
    sys.exit(main())
