"""How long the hot JSON answers take to encode: the standard library against orjson.

    .venv/bin/python -m cnop_loadtests.json_bench

Figures, not a test: docs/performance.md records a run. The asset list and
details are the answers every page load asks for; they are encoded with
orjson since this measurement (cnop_common/http_cache.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import orjson

from cnop_inventory.catalogue import Catalogue
from cnop_inventory.settings import DEFAULT_CATALOGUE

ROUNDS = 5000


def standard(payload: Any) -> bytes:
    """What the services used before: compact, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def per_call_microseconds(encode: Callable[[Any], bytes], payload: Any) -> float:
    """Mean time of one encoding over ROUNDS runs."""
    encode(payload)  # warm up
    started = time.perf_counter()
    for _ in range(ROUNDS):
        encode(payload)
    return (time.perf_counter() - started) / ROUNDS * 1e6


def main() -> None:
    """Print one line per answer and encoder, and the ratio."""
    catalogue = Catalogue.load(DEFAULT_CATALOGUE)
    answers = {
        "asset list (50)": catalogue.listing(active_only=True, limit=50),
        "asset detail": catalogue.detail(catalogue.assets[0]),
    }
    print(f"{'answer':<18} {'json µs':>9} {'orjson µs':>10} {'speed-up':>9}")
    for name, payload in answers.items():
        assert orjson.loads(orjson.dumps(payload)) == json.loads(standard(payload))
        slow = per_call_microseconds(standard, payload)
        fast = per_call_microseconds(orjson.dumps, payload)
        print(f"{name:<18} {slow:>9.1f} {fast:>10.1f} {slow / fast:>8.1f}x")


if __name__ == "__main__":
    main()
