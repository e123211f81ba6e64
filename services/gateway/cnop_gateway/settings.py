"""Gateway settings."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Annotated, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode

from cnop_common.settings import ProcessSettings

Network = IPv4Network | IPv6Network


def _csv(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class GatewaySettings(ProcessSettings):
    """Everything the gateway reads from its environment."""

    # PORT and ADMIN_PORT (ProcessSettings) and the upstreams' URLs have no defaults:
    # the catalogue is their one home, and whoever starts the gateway passes them.
    auth_url: str
    user_url: str
    inventory_url: str
    order_url: str

    auth_timeout_seconds: float = Field(default=1.0, gt=0, le=30)
    upstream_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Pooled, kept-alive connections to the upstreams: in all, and to each one.
    upstream_pool_size: int = Field(default=512, ge=1, le=10_000)
    upstream_pool_per_host: int = Field(default=256, ge=1, le=10_000)
    breaker_failure_threshold: int = Field(default=5, ge=1)
    breaker_reset_seconds: float = Field(default=10.0, gt=0)

    # Bound on how long a validation is reused: a revoked token dies within it.
    auth_cache_seconds: float = Field(default=5.0, ge=0, le=60)
    auth_cache_size: int = Field(default=10_000, ge=0)

    rate_limit_per_minute: int = Field(default=600, ge=1)
    # Redis every replica keeps its rate limit, login guard and revocations in;
    # unset: this replica's memory only (a single replica, or a test).
    limits_store_url: str | None = None
    trusted_proxies: Annotated[tuple[Network, ...], NoDecode] = ()
    login_max_failures_per_user: int = Field(default=5, ge=1)
    login_max_failures_per_ip: int = Field(default=20, ge=1)
    login_window_seconds: float = Field(default=900, gt=0)
    login_block_seconds: float = Field(default=900, gt=0)

    # Browser origins answered cross-origin; none unless the runner names them (the
    # local runner: the local web UI's; a cluster: the stack's domain, from the edge).
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    @model_validator(mode="after")
    def _shared_limits_for_workers(self) -> Self:
        # Each process's in-memory limits would give a client N times each budget.
        if self.workers > 1 and not self.limits_store_url:
            raise ValueError(
                "WORKERS > 1 needs LIMITS_STORE_URL: the rate limit, login guard and"
                " revocations must be shared by every worker"
            )
        return self

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_proxies(cls, value: object) -> object:
        parsed = _csv(value)
        if isinstance(parsed, tuple):
            return tuple(ip_network(p) if isinstance(p, str) else p for p in parsed)
        return parsed

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _parse_origins(cls, value: object) -> object:
        return _csv(value)

    def upstream_urls(self) -> dict[str, str]:
        """Base URL of every upstream by component name."""
        return {
            "auth": self.auth_url,
            "user": self.user_url,
            "inventory": self.inventory_url,
            "order": self.order_url,
        }
