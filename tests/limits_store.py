"""A redis-server of a test's own, started as the local platform starts its limits store."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from cnop_platform.local.processes import end
from cnop_platform.local.runner import limits_store_command


def answers(url: str) -> bool:
    """Whether a Redis at `url` answers PING."""
    try:
        with redis.Redis.from_url(url, socket_timeout=1) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


@contextmanager
def limits_store(port: int, folder: Path) -> Iterator[str]:
    """A redis-server on 127.0.0.1:`port` until the block ends; its URL."""
    url = f"redis://127.0.0.1:{port}/0"
    process = subprocess.Popen(
        limits_store_command(port, folder), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while not answers(url):
            assert process.poll() is None, "redis-server did not start"
            assert time.monotonic() < deadline, "redis-server did not answer"
            time.sleep(0.1)
        yield url
    finally:
        end(process)
