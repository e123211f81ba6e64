"""Auth service settings: the keyring and token rules, validated before anything serves."""

from __future__ import annotations

import json
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIN_KEY_BYTES = 32
# Values that appear in examples and templates; a real deployment never uses them.
PLACEHOLDER_MARKERS = ("change-me", "changeme", "placeholder", "example", "dev-only", "secret-key")


def is_placeholder(key: str) -> bool:
    """True for keys that look like a template's default rather than a generated secret."""
    lowered = key.lower()
    return any(marker in lowered for marker in PLACEHOLDER_MARKERS) or len(set(key)) < 8


class AuthSettings(BaseSettings):
    """Everything the auth service reads from its environment."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    environment: Literal["development", "staging", "production"] = "development"
    host: str = "127.0.0.1"
    # No defaults: the catalogue is the home of ports; whoever starts auth passes them.
    port: int = Field(ge=1, le=65535)
    # /metrics is served here, never on the API port: only Prometheus reaches it.
    admin_port: int = Field(ge=1, le=65535)
    # Slow or oversized requests are refused before the application (guarded_http.py),
    # with the same settings and bounds as every other server of the platform.
    header_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    body_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    max_header_bytes: int = Field(default=32 * 1024, ge=4096, le=1024 * 1024)
    max_headers: int = Field(default=100, ge=10, le=1000)
    max_connections: int = Field(default=1000, ge=10, le=100_000)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_file: Path | None = None
    trusted_networks: Annotated[tuple[IPv4Network | IPv6Network, ...], NoDecode] = (
        ip_network("127.0.0.1/32"),
    )

    # The keyring: {"kid": "secret", ...} as JSON, from the environment or a
    # mounted file (a Kubernetes Secret). Required: there is no default key.
    signing_keys: SecretStr | None = None
    signing_keys_file: Path | None = None
    active_kid: str = Field(min_length=1, max_length=64)
    # The callers' public keys (not ours): who may ask for tokens or validations
    # is proven by their signed assertion, not by their address alone.
    identity_public_keys_file: Path | None = None
    # Redis where every replica claims the nonces of the calls it accepts; unset:
    # each replica remembers its own (signed_calls.NonceStore).
    nonce_store_url: str | None = None

    @field_validator("identity_public_keys_file", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return None if value == "" else value

    issuer: str = "cnop-auth"
    audience: str = "cnop-platform"
    token_ttl_seconds: int = Field(default=3600, ge=60, le=86400)
    leeway_seconds: int = Field(default=30, ge=0, le=300)

    dynamodb_endpoint_url: str | None = None
    aws_region: str = "us-east-1"
    table_prefix: str = "cnop-"
    create_tables: bool = True
    store_timeout_seconds: float = Field(default=2.0, gt=0, le=30)

    # Who may ask for what (X-Source of a caller on a trusted network).
    issue_callers: tuple[str, ...] = ("user",)
    validate_callers: tuple[str, ...] = ("gateway",)

    @field_validator("trusted_networks", mode="before")
    @classmethod
    def _parse_networks(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(ip_network(part.strip()) for part in value.split(",") if part.strip())
        return value

    @model_validator(mode="after")
    def _keyring_is_sound(self) -> Self:
        self.check_keyring(self.keyring())
        if self.environment != "development" and self.identity_public_keys_file is None:
            raise ValueError("IDENTITY_PUBLIC_KEYS_FILE is required outside development")
        return self

    def check_keyring(self, keys: dict[str, str]) -> None:
        """Refuse a keyring without the active key, with short or placeholder keys."""
        if self.active_kid not in keys:
            raise ValueError(f"ACTIVE_KID {self.active_kid!r} is not in the keyring")
        for kid, key in keys.items():
            if len(key.encode()) < MIN_KEY_BYTES:
                raise ValueError(f"signing key {kid!r} is shorter than {MIN_KEY_BYTES} bytes")
            if self.environment != "development" and is_placeholder(key):
                raise ValueError(f"signing key {kid!r} is a placeholder; generate a real one")

    def keyring(self) -> dict[str, str]:
        """Every key still trusted for validation, by kid."""
        if self.signing_keys is not None:
            raw = self.signing_keys.get_secret_value()
        elif self.signing_keys_file is not None:
            raw = self.signing_keys_file.read_text(encoding="utf-8")
        else:
            raise ValueError("set SIGNING_KEYS or SIGNING_KEYS_FILE: the auth service has no keys")
        try:
            keys = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError("the keyring must be a JSON object of kid to key") from exc
        if not isinstance(keys, dict) or not keys:
            raise ValueError("the keyring must be a non-empty JSON object of kid to key")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in keys.items()):
            raise ValueError("keyring kids and keys must be strings")
        return keys

    def table_name(self) -> str:
        """The table of revoked token ids."""
        return f"{self.table_prefix}auth-revoked-tokens"
