"""User service settings (environment variables, validated at start-up)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from cnop_common.settings import ServiceSettings


class UserSettings(ServiceSettings):
    """Everything the user service reads from its environment."""

    # No defaults: the catalogue has the peers' ports, and the runner passes them.
    inventory_url: str
    auth_url: str
    peer_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    daily_deposit_limit: Decimal = Field(default=Decimal("10000.00"), gt=0)
    daily_withdraw_limit: Decimal = Field(default=Decimal("5000.00"), gt=0)
    # Argon2id at OWASP's floor (19 MiB, 2 passes, 1 lane) unless raised.
    argon2_memory_kib: int = Field(default=19456, ge=19456)
    argon2_time_cost: int = Field(default=2, ge=2)
    argon2_parallelism: int = Field(default=1, ge=1)
    # Hashes computed at once (each holds argon2_memory_kib): bounds the pod's memory.
    argon2_max_concurrent: int = Field(default=4, ge=1, le=40)
