"""Benchmark one authenticated GET (/api/v1/balance) through the front doors, in one run.

1. the backend directly (with the gateway's headers, no authentication at all);
2. our gateway with a warm validation cache, one worker process;
3. the same with two worker processes on one port (cnop_common/workers.py);
4. our gateway with the cache off (every request asks the auth service);
5. Debian's nginx with `auth_request` to the same auth service (GET /auth/verify)
   in front of the same backend: the setup a user would pick instead;
6. the same nginx with the auth answers cached (`proxy_cache` on the auth
   subrequest, keyed by the Authorization header, valid 5 s like our cache):
   the strongest nginx setup, the figure to beat.

The store is warmed up first (a JVM: its reads get about twice as fast once
compiled). Then the front-door-only table: the same front doors in front of a
trivial upstream that answers from memory (nginx `return 200`), so the store no
longer hides what the front door itself costs; there also the gateway's
application under granian instead of uvicorn (server_compare.py). With
`--profile FILE`, py-spy records the one-worker front-door gateway meanwhile and
the share of each part of a request is printed (profile.py).

Same load generator (wrk), same connections, threads and duration for all; it
prints requests/s, p50 and p99, and the ratios with the aims of issue 23.
Figures, not a pass/fail test: docs/performance.md records a run.

    make bench                      # installs nginx and wrk if missing, then runs this
    .venv/bin/python -m cnop_loadtests.gateway_bench --duration 15 --connections 32
    .venv/bin/python -m cnop_loadtests.gateway_bench --tables front --profile var/bench/gw.raw
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import httpx

from cnop_loadtests import profile
from cnop_loadtests.server_compare import granian_command
from cnop_platform.local.ports import PLATFORMS, admin_port, extra
from cnop_platform.local.processes import end
from cnop_platform.local.runner import LocalPlatform
from tests.helpers import GATEWAY_MARKERS, extra_process, gateway_user, running_platform

REPO = Path(__file__).resolve().parents[2]
ROOT = REPO / "var" / "bench"
OFFSET = PLATFORMS["bench"]  # its own ports: never disturbs `make up` or the tests
NO_CACHE_PORT = extra("bench: gateway, cache off")
NGINX_PORT = extra("bench: nginx auth_request")
NGINX_CACHED_PORT = extra("bench: nginx, auth cached")
# The front-door-only table: an in-memory upstream, and nginx (auth cached) and our
# gateway (warm cache) in front of it.
TRIVIAL_PORT = extra("bench: trivial upstream")
NGINX_TRIVIAL_PORT = extra("bench: nginx in front of the trivial upstream")
GATEWAY_TRIVIAL_PORT = extra("bench: gateway in front of the trivial upstream")
# The same gateways with two worker processes sharing the port (cnop_common/workers.py).
TWO_WORKERS_PORT = extra("bench: gateway, two workers")
TWO_WORKERS_TRIVIAL_PORT = extra("bench: gateway, two workers, in front of the trivial upstream")
# The same application under granian instead of uvicorn (server_compare.py).
GRANIAN_TRIVIAL_PORT = extra("bench: gateway under granian, in front of the trivial upstream")
PATH = "/api/v1/balance"
TRIVIAL_URL = f"http://127.0.0.1:{TRIVIAL_PORT}"
TRIVIAL_BODY = '{"current_balance":"100.00","available_balance":"100.00"}'
NGINX_AUTHENTICATED = """
      auth_request {auth};
      auth_request_set $auth_user $upstream_http_x_auth_user;
      auth_request_set $auth_role $upstream_http_x_auth_role;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "";
      proxy_set_header X-User-ID $auth_user;
      proxy_set_header X-User-Role $auth_role;
      proxy_set_header X-Source gateway;
      proxy_set_header X-Auth-Service auth-service;
      proxy_pass http://{backend}/;"""
NGINX_AUTH = """
    location = {name} {{
      internal;
      proxy_pass http://auth_backend/auth/verify;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Source gateway;{cache}
    }}"""
# The strongest common nginx setup: auth answers cached per token for 5 s.
NGINX_AUTH_CACHE = """
      proxy_cache auth_answers;
      proxy_cache_key $http_authorization;
      proxy_cache_valid 200 5s;"""
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
  proxy_cache_path {prefix}/cache keys_zone=auth_answers:10m max_size=64m inactive=60s;
  upstream user_backend {{ server 127.0.0.1:{user_port}; keepalive 64; }}
  upstream auth_backend {{ server 127.0.0.1:{auth_port}; keepalive 64; }}
  upstream trivial_backend {{ server 127.0.0.1:{trivial_port}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location /api/v1/ {{{plain_user}
    }}{plain_auth}
  }}
  server {{
    listen 127.0.0.1:{cached_port};
    location /api/v1/ {{{cached_user}
    }}{cached_auth}
  }}
  server {{
    listen 127.0.0.1:{trivial_port};
    location / {{
      default_type application/json;
      return 200 '{trivial_body}';
    }}
  }}
  server {{
    listen 127.0.0.1:{nginx_trivial_port};
    location /api/v1/ {{{cached_trivial}
    }}{cached_auth}
  }}
}}
"""
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}
STORE_WARM_UP_SECONDS = 20


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
        check=True,
        capture_output=True,
        text=True,
    )
    return parse_wrk(name, done.stdout)


@contextmanager
def nginx(platform: LocalPlatform) -> Iterator[dict[str, str]]:
    """Debian's nginx: auth_request (plain and cached) in front of the user service,
    the trivial in-memory upstream, and cached auth_request in front of that."""
    prefix = ROOT / "nginx"
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            prefix=prefix,
            port=NGINX_PORT,
            cached_port=NGINX_CACHED_PORT,
            trivial_port=TRIVIAL_PORT,
            nginx_trivial_port=NGINX_TRIVIAL_PORT,
            user_port=platform.port("user"),
            auth_port=platform.port("auth"),
            trivial_body=TRIVIAL_BODY,
            plain_user=NGINX_AUTHENTICATED.format(auth="/_auth", backend="user_backend"),
            cached_user=NGINX_AUTHENTICATED.format(auth="/_auth_cached", backend="user_backend"),
            cached_trivial=NGINX_AUTHENTICATED.format(
                auth="/_auth_cached", backend="trivial_backend"
            ),
            plain_auth=NGINX_AUTH.format(name="/_auth", cache=""),
            cached_auth=NGINX_AUTH.format(name="/_auth_cached", cache=NGINX_AUTH_CACHE),
        )
    )
    process = subprocess.Popen(
        ["nginx", "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
        stderr=subprocess.STDOUT,
        stdout=(prefix / "nginx.out").open("ab"),
    )
    url = f"http://127.0.0.1:{NGINX_PORT}"
    try:
        for _ in range(50):
            try:
                httpx.get(url, timeout=0.5)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield {
            "plain": url,
            "cached": f"http://127.0.0.1:{NGINX_CACHED_PORT}",
            "trivial": f"http://127.0.0.1:{TRIVIAL_PORT}",
            "cached_trivial": f"http://127.0.0.1:{NGINX_TRIVIAL_PORT}",
        }
    finally:
        process.terminate()
        process.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    """Run every target and print the figures; with --profile, where the gateway's time goes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per target")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--tables",
        choices=("both", "store", "front"),
        default="both",
        help="the store-bound table, the front-door-only one, or both",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="record the one-worker front-door gateway with py-spy here (raw) and print its parts",
    )
    args = parser.parse_args(argv)
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed: run `make bench`, which installs it", file=sys.stderr)
            return 2
    # nginx cannot sign identity assertions, so for a like-for-like comparison the
    # backends check the network and the markers only (development mode allows
    # it); the gateway still signs, so its figures include that cost.
    # The platform's own gateway runs one worker; the two-worker ones are extra.
    limits = {
        "RATE_LIMIT_PER_MINUTE": "100000000",
        "LOG_LEVEL": "WARNING",
        "IDENTITY_PUBLIC_KEYS_FILE": "",
        "WORKERS": "1",
    }
    with running_platform(ROOT, OFFSET, env=limits) as platform:
        gateway = platform.url("gateway")
        user = gateway_user(gateway, "bench", deposit="100")
        auth = user.auth
        direct_headers = {**GATEWAY_MARKERS, "X-User-ID": user.username, "X-User-Role": "customer"}
        with (
            extra_process(
                platform,
                "gateway",
                NO_CACHE_PORT,
                AUTH_CACHE_SECONDS="0",
                ADMIN_PORT=str(admin_port(NO_CACHE_PORT)),
            ) as no_cache,
            extra_process(platform, "gateway", TWO_WORKERS_PORT, WORKERS="2") as two_workers,
            nginx(platform) as doors,
            extra_process(
                platform, "gateway", GATEWAY_TRIVIAL_PORT, wait_for="/health", USER_URL=TRIVIAL_URL
            ) as gateway_trivial,
            extra_process(
                platform,
                "gateway",
                TWO_WORKERS_TRIVIAL_PORT,
                wait_for="/health",
                USER_URL=TRIVIAL_URL,
                WORKERS="2",
            ) as two_workers_trivial,
            granian_gateway(platform) as granian_trivial,
        ):
            targets = (
                gateway,
                no_cache,
                two_workers,
                doors["plain"],
                doors["cached"],
                doors["cached_trivial"],
                gateway_trivial,
                two_workers_trivial,
                granian_trivial,
            )
            for url in (f"{target}{PATH}" for target in targets):
                check = httpx.get(url, headers=auth)
                if check.status_code != 200:
                    print(f"setup error: {url} answered {check.status_code}", file=sys.stderr)
                    return 1
            if args.tables in ("both", "store"):
                # DynamoDB Local is a JVM: it serves reads about twice as fast once its
                # JIT has warmed up (docs/capacity.md). Unwarmed, the first target
                # measured (the backend direct) would pay for it alone.
                warm_up = argparse.Namespace(**{**vars(args), "duration": STORE_WARM_UP_SECONDS})
                run_wrk("store warm-up", f"{platform.url('user')}/balance", direct_headers, warm_up)
                results = [
                    run_wrk(
                        "backend direct", f"{platform.url('user')}/balance", direct_headers, args
                    ),
                    run_wrk("gateway, warm cache", f"{gateway}{PATH}", auth, args),
                    run_wrk("gateway, 2 workers", f"{two_workers}{PATH}", auth, args),
                    run_wrk("gateway, cache off", f"{no_cache}{PATH}", auth, args),
                    run_wrk("nginx auth_request", f"{doors['plain']}{PATH}", auth, args),
                    run_wrk("nginx, auth cached", f"{doors['cached']}{PATH}", auth, args),
                ]
                report(results, args)
            if args.tables in ("both", "front"):
                gateways = {
                    "uvicorn": gateway_trivial,
                    "two": two_workers_trivial,
                    "granian": granian_trivial,
                }
                front_doors = measure_front_doors(args, auth, doors, gateways)
                report_front_doors(front_doors, args)
                if args.profile is not None:
                    print()
                    print(profile.report(args.profile.read_text()))
    return 0


@contextmanager
def granian_gateway(platform: LocalPlatform) -> Iterator[str]:
    """The gateway's application under granian, in front of the trivial upstream."""
    env = platform.environment("gateway")
    env.update(
        {
            "PORT": str(GRANIAN_TRIVIAL_PORT),
            "ADMIN_PORT": str(admin_port(GRANIAN_TRIVIAL_PORT)),
            "USER_URL": TRIVIAL_URL,
            "WORKERS": "1",
        }
    )
    output = (platform.root / "log" / "granian.out").open("ab")
    process = subprocess.Popen(
        granian_command("127.0.0.1", GRANIAN_TRIVIAL_PORT),
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{GRANIAN_TRIVIAL_PORT}"
    try:
        for _ in range(150):
            if process.poll() is not None:
                raise RuntimeError(f"granian exited with {process.returncode}")
            try:
                if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        end(process)
        output.close()


def measure_front_doors(
    args: argparse.Namespace,
    auth: dict[str, str],
    doors: dict[str, str],
    gateways: dict[str, str],
) -> list[Result]:
    """The front-door-only runs; the one-worker gateway's under py-spy with --profile.
    `gateways`: the base URLs of ours in front of the trivial upstream, by kind."""
    gateway, two_workers, granian = gateways["uvicorn"], gateways["two"], gateways["granian"]
    one = argparse.Namespace(**{**vars(args), "connections": 1})
    trivial = f"{doors['trivial']}/balance"
    recorder = (
        profile.recording(listening_pid(GATEWAY_TRIVIAL_PORT), args.profile)
        if args.profile is not None
        else nullcontext()
    )
    results = [run_wrk("trivial direct", trivial, {}, args)]
    with recorder:
        results.append(run_wrk("gateway, warm cache", f"{gateway}{PATH}", auth, args))
        results.append(run_wrk("gateway, 1 conn", f"{gateway}{PATH}", auth, one))
    results += [
        run_wrk("gateway, 2 workers", f"{two_workers}{PATH}", auth, args),
        run_wrk("gateway under granian", f"{granian}{PATH}", auth, args),
        run_wrk("nginx, auth cached", f"{doors['cached_trivial']}{PATH}", auth, args),
        run_wrk("trivial direct, 1 conn", trivial, {}, one),
        run_wrk("nginx cached, 1 conn", f"{doors['cached_trivial']}{PATH}", auth, one),
    ]
    return results


def listening_pid(port: int) -> int:
    """The pid of the process listening on a loopback port (ss), to profile it."""
    out = subprocess.run(
        ["ss", "-ltnpH", f"sport = :{port}"], check=True, capture_output=True, text=True
    ).stdout
    match = re.search(r"pid=(\d+)", out)
    if match is None:
        raise RuntimeError(f"nothing listens on port {port}")
    return int(match.group(1))


def ratio_line(label: str, value: float, aim: str = "") -> str:
    """One ratio of the report, with the aim it is held to (issue 23) if any."""
    text = f"{label + ':':<46}{value:.2f}x"
    return f"{text:<54}aim {aim}" if aim else text


def report(results: list[Result], args: argparse.Namespace) -> None:
    """The store-bound table and its ratios."""
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, GET {PATH}\n")
    print_table(results, 22)
    direct, warm, two, cold, nginx_result, nginx_cached = results
    rps = {r.name: r.requests_per_second for r in results}
    print()
    for line in (
        ratio_line(
            "gateway warm / nginx cached throughput",
            warm.requests_per_second / nginx_cached.requests_per_second,
            ">= 0.95x",
        ),
        ratio_line(
            "gateway 2 workers / nginx cached throughput",
            two.requests_per_second / nginx_cached.requests_per_second,
        ),
        ratio_line(
            "gateway warm / nginx throughput",
            warm.requests_per_second / nginx_result.requests_per_second,
        ),
        ratio_line(
            "gateway cold / nginx throughput",
            cold.requests_per_second / nginx_result.requests_per_second,
        ),
        ratio_line(
            "gateway warm / direct throughput", warm.requests_per_second / rps["backend direct"]
        ),
    ):
        print(line)
    print(f"{'gateway warm p50 overhead:':<46}{warm.p50_ms - direct.p50_ms:+.2f} ms")
    print(f"{'nginx p50 overhead:':<46}{nginx_result.p50_ms - direct.p50_ms:+.2f} ms")
    print(f"{'nginx cached p50 overhead:':<46}{nginx_cached.p50_ms - direct.p50_ms:+.2f} ms")


def print_table(results: list[Result], width: int) -> None:
    """requests/s, p50, p99 and non-2xx answers of each run."""
    print(f"{'target':<{width}} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for r in results:
        print(
            f"{r.name:<{width}} {r.requests_per_second:>9.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f}"
            f" {r.non_2xx:>8}"
        )


def report_front_doors(results: list[Result], args: argparse.Namespace) -> None:
    """What the front door itself costs, in front of an upstream answering from memory."""
    print(
        f"\nfront door only: in front of an in-memory upstream, wrk -c{args.connections} and -c1\n"
    )
    print_table(results, 24)
    by_name = {r.name: r for r in results}
    gateway = by_name["gateway, warm cache"]
    two = by_name["gateway, 2 workers"]
    nginx_cached = by_name["nginx, auth cached"]
    direct_one = by_name["trivial direct, 1 conn"]
    print()
    for line in (
        ratio_line(
            "gateway (1 worker) / nginx cached throughput",
            gateway.requests_per_second / nginx_cached.requests_per_second,
            ">= 0.10x",
        ),
        ratio_line(
            "gateway 2 workers / nginx cached throughput",
            two.requests_per_second / nginx_cached.requests_per_second,
        ),
        ratio_line(
            "gateway 2 workers / 1 worker throughput",
            two.requests_per_second / gateway.requests_per_second,
        ),
        ratio_line(
            "granian / uvicorn throughput (1 process)",
            by_name["gateway under granian"].requests_per_second / gateway.requests_per_second,
        ),
    ):
        print(line)
    for label, door, aim in (
        ("gateway", by_name["gateway, 1 conn"], "   aim p50 <= +0.40 ms"),
        ("nginx cached", by_name["nginx cached, 1 conn"], ""),
    ):
        added_p50 = door.p50_ms - direct_one.p50_ms
        added_p99 = door.p99_ms - direct_one.p99_ms
        figures = f"{added_p50:+.2f} / {added_p99:+.2f} ms"
        print(f"{label + ' added at 1 conn (p50 / p99):':<46}{figures}{aim}")


if __name__ == "__main__":
    sys.exit(main())
