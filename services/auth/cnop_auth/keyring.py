"""The mounted keyring, followed while the service runs.

A rotation changes the Secret behind SIGNING_KEYS_FILE; Kubernetes swaps the
mounted file within a minute, and nothing restarts the pods. So the service
looks at the file (at most once a second, on the token routes) and takes a
changed keyring once it passes the same checks as at start-up. A keyring that
fails them is refused, logged and counted; the keys in use stay.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog
from prometheus_client import Counter

from cnop_auth.settings import AuthSettings
from cnop_auth.tokens import TokenService

log = structlog.stdlib.get_logger("auth")
RELOADS = Counter(
    "auth_keyring_reloads_total", "Changed keyrings taken or refused while running.", ["outcome"]
)
for _outcome in ("loaded", "refused"):
    RELOADS.labels(_outcome)


class KeyringFollower:
    """Swaps the token service's keys when the keyring file changes and is sound."""

    def __init__(
        self,
        settings: AuthSettings,
        tokens: TokenService,
        *,
        min_interval_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.tokens = tokens
        self.min_interval = min_interval_seconds
        self.clock = clock
        self._checked_at = clock()
        self._seen = self._signature()

    def _signature(self) -> tuple[int, int, int] | None:
        path = self.settings.signing_keys_file
        if path is None:
            return None
        try:
            stat = path.stat()
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

    def refresh(self) -> None:
        """Take a changed keyring if it passes the start-up checks."""
        if self.settings.signing_keys_file is None:
            return  # keys from the environment cannot change under us
        now = self.clock()
        if now - self._checked_at < self.min_interval:
            return
        self._checked_at = now
        signature = self._signature()
        if signature is None or signature == self._seen:
            return
        self._seen = signature
        try:
            keys = self.settings.keyring()
            self.settings.check_keyring(keys)
        except (OSError, ValueError) as exc:
            RELOADS.labels("refused").inc()
            log.error("keyring_refused", reason=str(exc))  # the reason never names a key
            return
        self.tokens.keyring = keys  # one assignment: a request sees the old ring or the new
        RELOADS.labels("loaded").inc()
        log.info("keyring_loaded", keys=len(keys))
