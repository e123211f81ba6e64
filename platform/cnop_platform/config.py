"""Stack configuration: Pulumi.<stack>.yaml → this module → components → container env.

The program reads its settings only through `StackConfig.from_pulumi()`; the
renderer feeds the same stack file into Pulumi's config when it runs the
program under mocks, so both paths see identical values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pulumi
import yaml
from pydantic import BaseModel, ConfigDict, Field

STACKS = Path(__file__).resolve().parents[1] / "stacks"
NAMESPACE = "cnop"


class StackConfig(BaseModel):
    """Everything that differs between environments."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")

    environment: Literal["local", "staging", "prod"]
    namespace: str = NAMESPACE
    image_registry: str = Field(alias="imageRegistry")
    image_tag: str = Field(alias="imageTag")
    kube_context: str | None = Field(default=None, alias="kubeContext")
    create_cluster: bool = Field(alias="createCluster")
    store: Literal["in-cluster", "dynamodb"]
    replicas: int = Field(ge=1)
    max_replicas: int | None = Field(default=None, alias="maxReplicas")
    pod_cidr: str = Field(alias="podCidr")
    expose: Literal["port-forward", "loadbalancer", "ingress"]
    domain: str
    retention_days: int = Field(alias="retentionDays", ge=1)
    deletion_protection: bool = Field(default=False, alias="deletionProtection")
    git_repo: str = Field(alias="gitRepo")
    git_revision: str = Field(alias="gitRevision")
    aws_region: str = Field(default="us-east-1", alias="awsRegion")
    auth_active_kid: str = Field(alias="authActiveKid")
    # The capacity gate: the steady rate load runs aim at, the least throughput
    # that passes, and how many Locust workers the cluster's load test runs.
    load_steady_rps: float = Field(default=10.0, alias="loadSteadyRps", gt=0)
    load_min_rps: float = Field(default=8.0, alias="loadMinRps", gt=0)
    load_workers: int = Field(default=0, alias="loadWorkers", ge=0)
    # The in-cluster Locust master and workers run only when this is switched on.
    load_generator: bool = Field(default=False, alias="loadGenerator")
    # Who applies the app layer: `pulumi up` itself, or Argo CD from deploy/<stack>/.
    apps_via: Literal["pulumi", "argocd"] = Field(alias="appsVia")

    @property
    def autoscaled(self) -> bool:
        """HPAs and PDBs exist where more than one replica runs."""
        return self.max_replicas is not None and self.replicas >= 2

    def image(self, component: str) -> str:
        """The image of a component: one name everywhere."""
        return f"{self.image_registry}/{component}:{self.image_tag}"

    @classmethod
    def from_pulumi(cls) -> StackConfig:
        """Read the running stack's configuration (plain values; secrets are read apart)."""
        config = pulumi.Config("cnop")
        raw: dict[str, Any] = {}
        for field in cls.model_fields.values():
            key = field.alias or ""
            value = config.get(key) if key else None
            if value is not None:
                raw[key] = _typed(value)
        for name, info in cls.model_fields.items():
            if info.alias is None:
                value = config.get(name)
                if value is not None:
                    raw[name] = _typed(value)
        raw.setdefault("awsRegion", pulumi.Config("aws").get("region") or "us-east-1")
        return cls.model_validate(raw)


def _typed(value: str) -> Any:
    # Pulumi hands every config value over as a string.
    parsed = yaml.safe_load(value)
    return parsed if isinstance(parsed, (bool, int)) else value


def stack_file_config(stack: str) -> dict[str, str]:
    """A stack file's config as Pulumi would pass it (`project:key` → string value)."""
    raw = yaml.safe_load((STACKS / f"Pulumi.{stack}.yaml").read_text())["config"]
    flat: dict[str, str] = {}
    for key, value in raw.items():
        if isinstance(value, dict) and "secure" in value:
            continue  # secrets never come from the file in tests; see the renderer
        flat[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return flat
