"""A bounded cache of token validations, keyed by a hash of the token.

An entry lives at most min(the configured bound, the token's own expiry), so a
revoked token keeps working for at most the bound on other replicas; the
replica that handled the logout evicts it at once.

Eviction alone is not enough: a validation that was already on its way to
auth when the logout came in can answer "valid" after the eviction and put
the token back. So a revoked token's hash is also remembered for a while
(longer than any validation can take) and never cached again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import Counter

# Longer than the slowest validation (the auth timeout is at most 30 s).
REVOKED_MEMORY_SECONDS = 60.0

CACHE_LOOKUPS = Counter(
    "gateway_auth_cache_total", "Token validation cache lookups by result.", ["result"]
)
for _result in ("hit", "miss"):
    CACHE_LOOKUPS.labels(_result)  # the hit ratio panel reads both from start-up


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a valid token belongs to."""

    username: str
    role: str
    expires_at: int  # epoch seconds


def token_key(token: str) -> bytes:
    """The cache key: a hash of what the token says, never the token itself.

    Base64url allows several spellings of one token (padding "=" appended to the
    signature still verifies), so the key hashes the decoded segments: every
    spelling of a token shares one cache entry and one revoked mark, and a
    logout with one spelling ends them all.
    """
    digest = hashlib.sha256()
    parts = token.split(".")
    try:
        if len(parts) != 3:  # header, payload, signature
            raise ValueError("not a JWT")
        decoded = [base64.urlsafe_b64decode(_padded(part)) for part in parts]
    except (binascii.Error, ValueError):
        decoded = [token.encode()]  # not a JWT at all: auth will refuse it
    for part in decoded:
        digest.update(len(part).to_bytes(4, "big"))
        digest.update(part)
    return digest.digest()


def _padded(segment: str) -> bytes:
    raw = segment.rstrip("=").encode("ascii")
    return raw + b"=" * (-len(raw) % 4)


class ValidationCache:
    """LRU of valid tokens with per-entry deadlines; bound 0 turns it off."""

    def __init__(
        self,
        *,
        bound_seconds: float,
        max_entries: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bound_seconds = bound_seconds
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[bytes, tuple[float, Identity]] = OrderedDict()
        self._revoked: OrderedDict[bytes, float] = OrderedDict()  # hash → until when

    @property
    def enabled(self) -> bool:
        """False when configured off (bound 0)."""
        return self.bound_seconds > 0 and self.max_entries > 0

    def get(self, key: bytes) -> Identity | None:
        """A still-fresh identity for this token hash, or None."""
        if not self.enabled:
            return None
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self.clock():
            if entry is not None:
                del self._entries[key]
            CACHE_LOOKUPS.labels("miss").inc()
            return None
        self._entries.move_to_end(key)
        CACHE_LOOKUPS.labels("hit").inc()
        return entry[1]

    def put(self, key: bytes, identity: Identity) -> None:
        """Remember a valid token until the bound or its expiry, whichever comes first."""
        if not self.enabled or self.recently_revoked(key):
            return
        deadline = min(self.clock() + self.bound_seconds, float(identity.expires_at))
        if deadline <= self.clock():
            return
        self._entries[key] = (deadline, identity)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every validation (the revoked memory stays): each is asked of auth again."""
        self._entries.clear()

    def evict(self, key: bytes) -> None:
        """Forget a token at once and refuse to cache it again (logout on this replica)."""
        self._entries.pop(key, None)
        if not self.enabled:
            return
        self._revoked[key] = self.clock() + REVOKED_MEMORY_SECONDS
        self._revoked.move_to_end(key)
        while len(self._revoked) > self.max_entries:
            self._revoked.popitem(last=False)

    def recently_revoked(self, key: bytes) -> bool:
        """Was this token revoked on this replica within the memory window?"""
        until = self._revoked.get(key)
        if until is None:
            return False
        if until <= self.clock():
            del self._revoked[key]
            return False
        return True

    def __len__(self) -> int:
        return len(self._entries)
