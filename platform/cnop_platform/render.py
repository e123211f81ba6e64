"""`make render STACK=<stack>`: run the program under Pulumi's mocks, write its Kubernetes objects.

The Pulumi CLI is not needed: Pulumi's own mock engine records every resource
the program declares. Kubernetes objects are written to deploy/<stack>/, one
file per object, secrets redacted. That folder is what Argo CD syncs and what
a reviewer reads in a pull request; a test fails when it is stale.
"""

from __future__ import annotations

import argparse
import copy
import shutil
from pathlib import Path
from typing import Any

import pulumi
import yaml

from cnop_platform.config import StackConfig, stack_file_config
from cnop_platform.program import build

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
STACK_NAMES = ("local", "staging", "prod")
REDACTED = "<redacted: set with pulumi config set --secret>"
# Objects `pulumi up` (or the operator) owns; everything else is the app layer
# Argo CD syncs. Argo CD must never apply the redacted Secret over the real one.
PULUMI_OWNED_KINDS = frozenset({"Namespace", "Secret", "Application", "Stack"})
# Stands in for the keyring secret while rendering; never written anywhere.
RENDER_KEYRING = '{"k1": "render-time-stand-in-never-deployed-0123456789"}'


class RecordingMocks(pulumi.runtime.Mocks):
    """Mocks that answer like the providers would and keep every Kubernetes object."""

    def __init__(self) -> None:
        self.objects: list[dict[str, Any]] = []
        self.resources: list[tuple[str, str, dict[str, Any]]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        self.resources.append((args.typ, args.name, copy.deepcopy(inputs)))
        if args.typ.startswith("kubernetes:") and "apiVersion" in inputs and "kind" in inputs:
            self.objects.append(copy.deepcopy(inputs))
        return f"{args.name}-id", {**inputs, **_computed(args.typ, args.name, inputs)}

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


def _computed(typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Outputs a real provider would compute, shaped as it returns them."""
    arn = f"arn:aws:mock:::{name}"
    if typ == "aws:eks/cluster:Cluster":
        return {
            "arn": arn,
            "endpoint": f"https://{name}.eks.mock",
            "certificateAuthority": {"data": "bW9jaw=="},
            "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.mock/id/{name}"}]}],
        }
    if typ.startswith("aws:"):
        return {"arn": inputs.get("arn", arn)}
    return {}


def run(stack: str, overrides: dict[str, str] | None = None) -> RecordingMocks:
    """Run the program for a stack under mocks (config `overrides` on top); what it declared."""
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="cnop", stack=stack, preview=False)
    pulumi.runtime.set_all_config(
        {
            **stack_file_config(stack),
            "cnop:renderApps": "true",
            "cnop:authSigningKeys": RENDER_KEYRING,
            **(overrides or {}),
        },
        secret_keys=["cnop:authSigningKeys"],
    )

    def program() -> None:
        build(StackConfig.from_pulumi(), apps=True)

    pulumi.runtime.test(program)()  # type: ignore[no-untyped-call]
    return mocks


def _clean(value: Any) -> Any:
    # Mocks hand numbers back as floats; manifests want integers.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def manifests(stack: str) -> dict[str, str]:
    """File name → YAML text of every Kubernetes object, secrets redacted."""
    files: dict[str, str] = {}
    for declared in run(stack).objects:
        obj = _clean(declared)
        if obj["kind"] == "Secret":
            for field in ("data", "stringData"):
                if field in obj:
                    obj[field] = dict.fromkeys(obj[field], REDACTED)
        meta = obj.get("metadata", {})
        folder = "pulumi" if obj["kind"] in PULUMI_OWNED_KINDS else "apps"
        name = (
            f"{folder}/{obj['kind'].lower()}-{meta.get('namespace', 'cluster')}-{meta['name']}.yaml"
        )
        if name in files:
            raise ValueError(f"two objects render to {name}")
        files[name] = yaml.safe_dump(obj, sort_keys=True, width=100)
    return dict(sorted(files.items()))


def write(stack: str) -> Path:
    """Replace deploy/<stack>/ with the rendered objects."""
    target = DEPLOY / stack
    shutil.rmtree(target, ignore_errors=True)
    for name, text in manifests(stack).items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_text(text, encoding="utf-8")
    return target


def main() -> None:
    """Render one stack, or all of them."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("stack", nargs="?", choices=STACK_NAMES)
    args = parser.parse_args()
    for stack in [args.stack] if args.stack else STACK_NAMES:
        target = write(stack)
        print(f"{stack}: {len(list(target.rglob('*.yaml')))} objects in {target}")


if __name__ == "__main__":
    main()
