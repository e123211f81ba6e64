"""The CrossGuard rules over Kubernetes manifests: the app layer Argo CD applies.

`python -m cnop_policies.manifests deploy/` checks every rendered object the
way the pack checks what `pulumi up` declares; exits 1 with the violations.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml
from pulumi_policy import ResourceValidationArgs

from cnop_policies.crossguard import rules


def resource_type(obj: dict[str, Any]) -> str:
    """A manifest's Pulumi type token (apps/v1 Deployment → kubernetes:apps/v1:Deployment)."""
    api_version = obj["apiVersion"]
    group_version = api_version if "/" in api_version else f"core/{api_version}"
    return f"kubernetes:{group_version}:{obj['kind']}"


def violations(obj: dict[str, Any]) -> list[str]:
    """What the pack's rules say of one object."""
    found: list[str] = []
    name = obj.get("metadata", {}).get("name", "")
    args = ResourceValidationArgs(
        resource_type=resource_type(obj),
        props=obj,
        urn=f"manifest:{name}",
        name=name,
        opts=None,  # type: ignore[arg-type]  # the rules never read resource options
        provider=None,
    )
    for policy in rules.POLICIES:
        policy.validate(args, lambda message, _urn=None: found.append(f"{name}: {message}"))
    return found


def check(folder: Path) -> list[str]:
    """Violations of every manifest under `folder` (kustomization files are not objects)."""
    found = []
    for path in sorted(folder.rglob("*.yaml")):
        obj = yaml.safe_load(path.read_text())
        if obj and obj.get("kind") != "Kustomization":
            found += [f"{path.relative_to(folder)}: {v}" for v in violations(obj)]
    return found


def main() -> int:
    """Check the folders given (default: deploy/)."""
    folders = [Path(arg) for arg in sys.argv[1:]] or [Path("deploy")]
    found = [v for folder in folders for v in check(folder)]
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
