"""`make logs ID=<request id or trace id>`: one request across every service, in time order.

Reads each service's JSON lines (var/log/<name>.jsonl) and prints the lines
whose request_id or trace_id is the given id, sorted by timestamp.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CORE = ("timestamp", "service", "level", "event", "request_id", "trace_id", "span_id", "user")


def matching_lines(log_dir: Path, wanted: str) -> list[dict[str, Any]]:
    """Every log record of the request or trace `wanted`, oldest first."""
    records = [
        record
        for record in _records(log_dir)
        if wanted in (record.get("request_id"), record.get("trace_id"))
    ]
    return sorted(records, key=lambda record: str(record.get("timestamp", "")))


def _records(log_dir: Path) -> Iterator[dict[str, Any]]:
    for path in sorted(log_dir.glob("*.jsonl")):
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a crash is not worth failing for
                if isinstance(record, dict):
                    yield record


def format_record(record: dict[str, Any]) -> str:
    """One readable line: time, service, level, event, then the other fields."""
    extra = " ".join(
        f"{key}={value}" for key, value in record.items() if key not in CORE and value is not None
    )
    return (
        f"{record.get('timestamp', '?')} {record.get('service', '?'):<9} "
        f"{record.get('level', '?'):<7} {record.get('event', '')} "
        f"span={record.get('span_id')} user={record.get('user')} {extra}"
    ).rstrip()


def main(argv: list[str] | None = None) -> int:
    """Print the request's lines; exit 1 when there are none."""
    parser = argparse.ArgumentParser(prog="make logs", description=__doc__)
    parser.add_argument("id", help="a request id (X-Request-ID) or a trace id")
    parser.add_argument("--root", type=Path, default=Path("var"))
    args = parser.parse_args(argv)
    records = matching_lines(args.root / "log", args.id)
    for record in records:
        print(format_record(record))
    if not records:
        print(f"no log lines for {args.id} under {args.root / 'log'}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
