"""Settings base: one pydantic-settings class per service, failing fast on bad input."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from cnop_common.assertions import Signer

Network = IPv4Network | IPv6Network


class ProcessSettings(BaseSettings):
    """What every server process of the platform reads: where it listens and logs."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    environment: Literal["development", "staging", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(ge=1, le=65535)
    # /metrics is served here, never on the API port: only Prometheus reaches it.
    admin_port: int = Field(ge=1, le=65535)
    # Slow or oversized requests are refused before the application (guarded_http.py).
    header_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    body_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    max_header_bytes: int = Field(default=32 * 1024, ge=4096, le=1024 * 1024)
    max_headers: int = Field(default=100, ge=10, le=1000)
    # Connections and requests in progress per process; beyond it, 503.
    max_connections: int = Field(default=1000, ge=10, le=100_000)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_file: Path | None = None
    # Signed identity assertions (assertions.py): this process's own signing key,
    # if it calls our services, and the public keys of the callers it believes.
    identity_signing_key_file: Path | None = None
    identity_public_keys_file: Path | None = None
    # Redis where every replica claims the nonces of the signed calls it accepts
    # (nonces.py); unset: each replica remembers its own.
    nonce_store_url: str | None = None
    # Processes sharing the port (cnop_common/workers.py); the catalogue's footprint
    # sets it (in a cluster from the pod's CPU limit).
    workers: int = Field(default=1, ge=1, le=64)

    @field_validator("identity_signing_key_file", "identity_public_keys_file", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        # An empty variable switches the assertions off (development only: see below).
        return None if value == "" else value

    def signer(self) -> Signer | None:
        """The key this process signs its calls to our services with, if it has one."""
        return (
            Signer.load(self.identity_signing_key_file) if self.identity_signing_key_file else None
        )


class ServiceSettings(ProcessSettings):
    """Settings every backend service shares; each service subclasses it."""

    # Peers allowed to reach the service at all (the pod network in a cluster).
    trusted_networks: Annotated[tuple[Network, ...], NoDecode] = (ip_network("127.0.0.1/32"),)

    # Unset means real AWS; locally the DynamoDB-compatible server.
    dynamodb_endpoint_url: str | None = None
    aws_region: str = "us-east-1"
    table_prefix: str = "cnop-"
    # Locally each service creates its tables; in AWS Pulumi does and this is off.
    create_tables: bool = True
    store_timeout_seconds: float = Field(default=3.0, gt=0, le=30)
    # Pooled, kept-alive connections: to the store (boto3), and to each peer
    # service (httpx). Sized for the thread pool that runs the endpoints (40).
    store_pool_size: int = Field(default=64, ge=1, le=1024)
    peer_pool_size: int = Field(default=64, ge=1, le=1024)

    @field_validator("trusted_networks", mode="before")
    @classmethod
    def _parse_networks(cls, value: object) -> object:
        """Accept a comma-separated list of CIDRs, as environment variables carry it."""
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            if not parts:
                raise ValueError("TRUSTED_NETWORKS must name at least one CIDR")
            return tuple(ip_network(part, strict=True) for part in parts)
        return value

    @model_validator(mode="after")
    def _assertions_outside_development(self) -> Self:
        # A backend without public keys would believe identity headers on the
        # network's word alone: allowed only on a developer's machine.
        if self.environment != "development" and self.identity_public_keys_file is None:
            raise ValueError("IDENTITY_PUBLIC_KEYS_FILE is required outside development")
        # Each worker remembers the nonces it accepted: without a shared store, a
        # call accepted by one worker could be replayed against another.
        if self.workers > 1 and self.identity_public_keys_file and not self.nonce_store_url:
            raise ValueError(
                "WORKERS > 1 needs NONCE_STORE_URL: every worker must see the nonces"
                " the others accepted"
            )
        return self

    def table_name(self, logical_name: str) -> str:
        """The physical table name for one of the platform's logical tables."""
        return f"{self.table_prefix}{logical_name}"
