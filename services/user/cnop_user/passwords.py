"""Argon2id password hashing, and a credential check that does not reveal which users exist."""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

# glibc's mallopt() parameter for the size above which allocations are mmap()ed.
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 1 << 20


def return_hash_memory_to_the_system() -> bool:
    """Make glibc mmap() every allocation of 1 MiB or more, so it goes back to the OS on free.

    Each Argon2 hash allocates its 19 MiB block. By default glibc raises its mmap
    threshold after the first such block is freed, and from then on keeps the
    blocks in per-thread arenas: measured here, 400 hashes on 40 threads left
    449 MiB resident (14 MiB with a fixed threshold), past the pod's memory limit.
    Returns False where the C library is not glibc (nothing to change there).
    """
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        return bool(libc and libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
    except (OSError, AttributeError):
        return False


class Passwords:
    """Hash and verify passwords with Argon2id."""

    def __init__(
        self, *, memory_kib: int, time_cost: int, parallelism: int, max_concurrent: int = 4
    ) -> None:
        # Each hash holds `memory_kib` while it runs, and requests run on a pool of
        # 40 threads: unbounded, a burst of sign-ups or logins would take 40 × 19 MiB
        # and push the pod past its memory limit. Beyond `max_concurrent` they queue.
        self._slots = threading.BoundedSemaphore(max_concurrent)
        return_hash_memory_to_the_system()
        self._hasher = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        # Verified against when the user does not exist, so an unknown username
        # costs the same time as a wrong password.
        self._dummy_hash = self._hasher.hash("not-a-real-password-0A!")

    def hash(self, password: str) -> str:
        """A new salted Argon2id hash."""
        with self._slot():
            return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when the password matches; always does one full verification."""
        try:
            with self._slot():
                matches = self._hasher.verify(stored_hash or self._dummy_hash, password)
            return matches and stored_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the hash was made with weaker parameters than the current ones."""
        return self._hasher.check_needs_rehash(stored_hash)

    @contextmanager
    def _slot(self) -> Iterator[None]:
        with self._slots:
            yield
