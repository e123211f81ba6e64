"""What the policy suites share: the target environment, accounts of their own, polling."""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.helpers import registration


@dataclass(frozen=True)
class Target:
    """Where the suites send their requests and read their evidence."""

    gateway: str
    prometheus: str | None = None
    admin: str | None = None  # the gateway's admin port (metrics)
    admin_exposed: bool = True  # False: the admin port must not answer from where we stand
    log_dir: Path | None = None  # local: the services' JSON logs
    loki: str | None = None  # cluster: Loki's query API
    tempo: str | None = None  # cluster: Tempo's trace API
    wait_seconds: float = 120.0  # how long evidence (scrapes, rules, logs) may take to appear

    @property
    def api(self) -> str:
        """The public API's base URL."""
        return f"{self.gateway.rstrip('/')}/api/v1"

    @property
    def on_loopback(self) -> bool:
        """True when the target runs on this machine (source addresses can be chosen)."""
        return self.gateway.startswith(("http://127.", "http://localhost"))


def target_from_environment() -> Target | None:
    """A Target from CNOP_TARGET_* variables, or None when CNOP_TARGET_GATEWAY is unset."""
    env = os.environ
    if not env.get("CNOP_TARGET_GATEWAY"):
        return None
    log_dir = env.get("CNOP_TARGET_LOG_DIR")
    return Target(
        gateway=env["CNOP_TARGET_GATEWAY"],
        prometheus=env.get("CNOP_TARGET_PROMETHEUS") or None,
        admin=env.get("CNOP_TARGET_ADMIN") or None,
        admin_exposed=env.get("CNOP_TARGET_ADMIN_EXPOSED", "true") == "true",
        log_dir=Path(log_dir) if log_dir else None,
        loki=env.get("CNOP_TARGET_LOKI") or None,
        tempo=env.get("CNOP_TARGET_TEMPO") or None,
        wait_seconds=float(env.get("CNOP_TARGET_WAIT_SECONDS", "120")),
    )


@dataclass
class Member:
    """An account this suite created, logged in."""

    username: str
    password: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        """Its bearer token header."""
        return {"Authorization": f"Bearer {self.token}"}


def new_member(target: Target, http: httpx.Client | None = None) -> Member:
    """Register a fresh account through the gateway and log in."""
    client = http or httpx.Client(timeout=30.0, trust_env=False)
    username = f"pd_{secrets.token_hex(6)}"
    password = f"Pd-{secrets.token_urlsafe(12)}-7x"
    created = client.post(
        f"{target.api}/auth/register", json=registration(username, password=password)
    )
    assert created.status_code == 201, created.text
    return Member(username, password, log_in(target, username, password, client))


def log_in(target: Target, username: str, password: str, http: httpx.Client | None = None) -> str:
    """A fresh token for an account."""
    client = http or httpx.Client(timeout=30.0, trust_env=False)
    response = client.post(
        f"{target.api}/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def get_json(url: str, **kwargs: Any) -> Any:
    """GET a JSON document (Prometheus, Loki, Tempo)."""
    response = httpx.get(url, timeout=10.0, trust_env=False, **kwargs)
    response.raise_for_status()
    return response.json()


def services_in_loki(loki: str, trace_id: str) -> set[str]:
    """Services whose log lines in Loki carry the trace id (the last 15 minutes)."""
    now = time.time_ns()
    body = get_json(
        f"{loki.rstrip('/')}/loki/api/v1/query_range",
        params={
            # Alloy ships only our namespace's pods and labels each stream with its
            # `service` (platform/cnop_platform/components/monitoring_values.py).
            "query": f'{{service=~".+"}} |= "{trace_id}"',
            "start": str(now - 15 * 60 * 10**9),
            "end": str(now),
            "limit": "1000",
        },
    )
    found = set()
    for stream in body["data"]["result"]:
        labels: dict[str, Any] = stream["stream"]
        if labels.get("service"):
            found.add(str(labels["service"]))
    return found


def services_in_tempo(tempo: str, trace_id: str) -> set[str]:
    """Services that reported spans of the trace to Tempo."""
    response = httpx.get(f"{tempo.rstrip('/')}/api/traces/{trace_id}", timeout=10, trust_env=False)
    if response.status_code == 404:
        return set()
    response.raise_for_status()
    found = set()
    for batch in response.json().get("batches", []):
        for attribute in batch.get("resource", {}).get("attributes", []):
            if attribute.get("key") == "service.name":
                found.add(str(attribute["value"].get("stringValue")))
    return found
