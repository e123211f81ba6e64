"""Where a gateway process spends its time: py-spy samples, grouped into the parts of a request.

`make bench` records the front-door-only gateway with py-spy (raw "folded"
stacks: one line per distinct stack, root first, then the sample count) and
prints the share of each part below. A sample belongs to the part of the
innermost frame that names one, so a log call made from the routing code counts
as logging, and the event loop is what is left when no request code is on the
stack at all.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# (part, substrings of a frame's "function (file:line)" text), innermost match wins.
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("identity signature (Ed25519, SHA-256)", ("cnop_common/assertions", "cryptography/")),
    ("limits store round trip (redis-py)", ("redis/", "cnop_gateway/shared")),
    ("upstream client (aiohttp)", ("aiohttp/", "cnop_gateway/upstreams", "multidict", "yarl/")),
    ("HTTP server (uvicorn, guarded protocol)", ("uvicorn/", "cnop_common/guarded_http")),
    ("metrics and access log", ("prometheus_client/", "structlog/", "cnop_common/logging")),
    ("request id and trace context", ("cnop_common/tracing", "cnop_common/middleware")),
    ("gateway logic (routing, token key, headers, auth gate)", ("cnop_gateway/",)),
    ("event loop (uvloop, asyncio)", ("uvloop", "asyncio/")),
)
OTHER = "other"
# Installed with the project (pyproject.toml), beside the interpreter running this.
PY_SPY = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"


def part_of(stack: str) -> str:
    """The part one folded stack (frames joined by ';', root first) belongs to."""
    for frame in reversed(stack.split(";")):
        for part, needles in PARTS:
            if any(needle in frame for needle in needles):
                return part
    return OTHER


def shares(raw: str) -> tuple[int, list[tuple[str, float]]]:
    """The sample count and each part's share of it, largest first, from py-spy's raw output."""
    counts: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            counts[part_of(stack)] += int(count)
    total = sum(counts.values())
    if total == 0:
        return 0, []
    return total, [(part, count / total) for part, count in counts.most_common()]


def report(raw: str) -> str:
    """The shares as a table to print."""
    total, parts = shares(raw)
    lines = [f"profile: {total} samples of the busy gateway process (py-spy, 200 Hz)"]
    lines += [f"  {share:>6.1%}  {part}" for part, share in parts]
    return "\n".join(lines)


@contextmanager
def recording(pid: int, output: Path) -> Iterator[Path]:
    """py-spy samples `pid` for the duration of the block (raw output to `output`)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    # py-spy is our own dependency; the pid is a process this bench started.
    process = subprocess.Popen(  # noqa: S603
        [
            PY_SPY,
            "record",
            "--pid",
            str(pid),
            "--rate",
            "200",
            "--format",
            "raw",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield output
    finally:
        # py-spy writes its file when interrupted, as on Ctrl-C.
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
