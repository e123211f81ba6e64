"""Argon2id password hashing, and a credential check that does not reveal which users exist."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    """Hash and verify passwords with Argon2id."""

    def __init__(self, *, memory_kib: int, time_cost: int, parallelism: int) -> None:
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
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when the password matches; always does one full verification."""
        try:
            return self._hasher.verify(stored_hash or self._dummy_hash, password) and (
                stored_hash is not None
            )
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the hash was made with weaker parameters than the current ones."""
        return self._hasher.check_needs_rehash(stored_hash)
