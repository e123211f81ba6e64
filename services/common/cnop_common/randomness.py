"""Random ids and nonces from the operating system's CSPRNG, drawn a page at a time.

Every request through the gateway needs four random values (its request id,
trace and span ids, and the nonce of the call it signs). `secrets` asks the
kernel (getrandom) for each one: four system calls per request, 2-3 % of the
gateway's time in the profile. Here bytes come from os.urandom in blocks of
BLOCK_BYTES, kept per thread and handed out once each: the same source, the
same unpredictability, one system call per ~100 requests. A forked child starts
with an empty block, so it never hands out its parent's bytes again.
"""

from __future__ import annotations

import base64
import os
import threading

BLOCK_BYTES = 4096


class _Pool(threading.local):
    block: bytes = b""
    used: int = 0


_pool = _Pool()


def _forget_after_fork() -> None:
    global _pool  # noqa: PLW0603 - a fresh pool: the parent's bytes must not be reused
    _pool = _Pool()


os.register_at_fork(after_in_child=_forget_after_fork)


def token_bytes(count: int) -> bytes:
    """`count` random bytes never handed out before (os.urandom, buffered)."""
    pool = _pool
    if count > BLOCK_BYTES:
        return os.urandom(count)
    if pool.used + count > len(pool.block):
        pool.block = os.urandom(BLOCK_BYTES)
        pool.used = 0
    start = pool.used
    pool.used = start + count
    return pool.block[start : start + count]


def token_hex(count: int) -> str:
    """`count` random bytes as lower-case hex (2 × count characters)."""
    return token_bytes(count).hex()


def token_urlsafe(count: int) -> str:
    """`count` random bytes as unpadded base64url."""
    return base64.urlsafe_b64encode(token_bytes(count)).rstrip(b"=").decode("ascii")
