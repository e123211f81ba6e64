"""`make render STACK=<stack>`: run the program under Pulumi's mocks, write its Kubernetes objects.

The Pulumi CLI is not needed: Pulumi's own mock engine records every resource
the program declares. The app layer is written to deploy/<stack>/apps/, one
file per object, with a kustomization.yaml that lists them in sync waves. That
folder is what Argo CD syncs and what a reviewer reads in a pull request; a
test fails when it is stale. What `pulumi up` itself applies (namespaces,
Secrets, the edge, Argo CD's own objects) carries account-specific values and
is never written there.

Values only an account has (its domain, certificate, networks, administrators)
are not in the stack files; rendering stands in for them, and a test proves no
stand-in reaches deploy/.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import shutil
from pathlib import Path
from typing import Any

import pulumi
import yaml

from cnop_platform.components.gitops import ARGOCD_NAMESPACE
from cnop_platform.components.monitoring_values import NAMESPACE as MONITORING
from cnop_platform.config import StackConfig, stack_file_config
from cnop_platform.identity_keys import new_keyring
from cnop_platform.program import build

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
STACK_NAMES = ("local", "staging", "prod")
REDACTED = "<redacted: set with pulumi config set --secret>"
# Stands in for the keyring secret while rendering; never written anywhere.
RENDER_KEYRING = '{"k1": "render-time-stand-in-never-deployed-0123456789"}'
# Stand-ins for what each account sets itself (docs/deploying.md), used only
# where the stack file leaves them out.
STAND_IN = "render-stand-in"
RENDER_STAND_INS = {
    "cnop:domain": f"{STAND_IN}.invalid",
    "cnop:apiDomain": f"api.{STAND_IN}.invalid",
    "cnop:hostedZoneId": "Z00000000STANDIN",
    "cnop:gitRepo": f"https://{STAND_IN}.invalid/cnop.git",
    "cnop:cdnCertificateArn": f"arn:aws:acm:us-east-1:000000000000:certificate/{STAND_IN}",
    "cnop:apiAccessCidrs": '["192.0.2.0/24"]',
    "cnop:clusterAdmins": f'["arn:aws:iam::000000000000:role/{STAND_IN}"]',
    "cnop:alertReceiverUrl": f"https://{STAND_IN}.invalid/alerts",
    "cnop:limitsStoreToken": f"{STAND_IN}-limits-store-token",
    # Fresh keys each render: only Pulumi's own objects hold them, never deploy/.
    "cnop:identityKeys": new_keyring(),
}
# The app layer: what Argo CD applies from git (gitops.APP_KINDS, namespaced).
# Pulumi's own objects are not written: the edge Service and Ingress, the edge
# ConfigMap and the Secrets name the account's domain, certificate and keys.
PULUMI_OWNED = frozenset(
    {
        ("Namespace", None),
        ("Secret", None),
        ("Application", None),
        ("AppProject", None),
        ("StorageClass", None),
        ("Ingress", None),
        ("ConfigMap", "cnop-edge"),
        ("ConfigMap", "identity-public-keys"),
        ("Service", "gateway-public"),
    }
)
# Argo CD applies lower waves first: isolation before workloads, workloads
# before the monitors that watch them, the check after everything.
SYNC_WAVES = {"NetworkPolicy": "-1", "ServiceMonitor": "2", "PrometheusRule": "2"}


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
        if args.token == "aws:ec2/getManagedPrefixList:getManagedPrefixList":  # noqa: S105
            return {"id": "pl-3b927c52", "name": args.args.get("name")}, []
        if args.token == "aws:lb/getLoadBalancer:getLoadBalancer":  # noqa: S105
            name = args.args.get("name")
            # As ELB answers: the name's DNS name, and the region's canonical NLB/ALB zone.
            return {
                "name": name,
                "dnsName": f"{name}-0123456789.elb.mock",
                "zoneId": "ZMOCKELB",
            }, []
        return {}, []


def _computed(typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Outputs a real provider would compute, shaped as it returns them."""
    arn = f"arn:aws:mock:::{name}"
    # The AWS Load Balancer Controller writes the ALB's name into the Ingress's
    # status; Pulumi waits for it.
    alb = f"k8s-{name}-0123456789.eu-west-1.elb.amazonaws.com"
    by_type: dict[str, dict[str, Any]] = {
        "aws:eks/cluster:Cluster": {
            "arn": arn,
            "endpoint": f"https://{name}.eks.mock",
            "certificateAuthority": {"data": "bW9jaw=="},
            "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.mock/id/{name}"}]}],
        },
        "kubernetes:networking.k8s.io/v1:Ingress": {
            "status": {"loadBalancer": {"ingress": [{"hostname": alb}]}}
        },
        "aws:cloudfront/distribution:Distribution": {
            "arn": arn,
            "domainName": "d111111abcdef8.cloudfront.net",
            "hostedZoneId": "Z2FDTNDATAQYW2",
        },
        "random:index/randomPassword:RandomPassword": {"result": f"mock-password-{name}"},
        "aws:s3/bucket:Bucket": {"arn": arn, "bucket": f"{inputs.get('bucketPrefix', '')}{name}"},
    }
    if typ in by_type:
        return by_type[typ]
    if typ.startswith("aws:"):
        return {"arn": inputs.get("arn", arn)}
    return {}


def render_config(stack: str, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """The config a render runs with: stand-ins, the stack file, then `overrides`."""
    stack_file = stack_file_config(stack)
    # The load balancers' certificate is one of the stack's own region (config.py).
    region = stack_file.get("aws:region", "us-east-1")
    return {
        **RENDER_STAND_INS,
        "cnop:tlsCertificateArn": f"arn:aws:acm:{region}:000000000000:certificate/{STAND_IN}",
        **stack_file,
        "cnop:authSigningKeys": RENDER_KEYRING,
        **(overrides or {}),
    }


def run(
    stack: str, overrides: dict[str, str] | None = None, *, apps: bool = True
) -> RecordingMocks:
    """Run the program for a stack under mocks (config `overrides` on top); what it declared.

    `apps`: declare the app layer too (a render needs it; a real `pulumi up` of a
    stack whose app layer Argo CD applies does not)."""
    mocks = RecordingMocks()
    _ensure_event_loop()
    pulumi.runtime.set_mocks(mocks, project="cnop", stack=stack, preview=False)
    pulumi.runtime.set_all_config(
        render_config(stack, overrides),
        secret_keys=[
            "cnop:authSigningKeys",
            "cnop:alertReceiverUrl",
            "cnop:limitsStoreToken",
            "cnop:identityKeys",
            "cnop:gitToken",
        ],
    )

    def program() -> None:
        build(StackConfig.from_pulumi(), apps=apps)

    pulumi.runtime.test(program)()  # type: ignore[no-untyped-call]
    return mocks


def _ensure_event_loop() -> None:
    # Pulumi's test runner uses the thread's current event loop; an asyncio.run()
    # earlier in the same process (a test's, say) leaves the thread without one.
    try:
        asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())


SECRET_SIG = "4dabf18193072939515e22adb298388d"  # noqa: S105 - Pulumi's secret marker


def plain_values(value: Any) -> Any:
    # Mocks hand numbers back as floats (manifests want integers) and secrets
    # wrapped in Pulumi's marker (the value, not the marker, is the object's).
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        if value.get(SECRET_SIG) is not None and "value" in value:
            return plain_values(value["value"])
        return {k: plain_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_values(v) for v in value]
    return value


def objects(stack: str) -> list[dict[str, Any]]:
    """Every Kubernetes object the program declares for a stack, secrets redacted."""
    return objects_with(stack, {})


def objects_with(stack: str, overrides: dict[str, str]) -> list[dict[str, Any]]:
    """objects() with config `overrides` on top of the stack file."""
    found = []
    for declared in run(stack, overrides).objects:
        obj = plain_values(declared)
        if obj["kind"] == "Secret":
            for field in ("data", "stringData"):
                if field in obj:
                    obj[field] = dict.fromkeys(obj[field], REDACTED)
        found.append(obj)
    return found


def is_app_layer(obj: dict[str, Any]) -> bool:
    """True for what Argo CD applies from deploy/<stack>/apps."""
    kind, name = obj["kind"], obj["metadata"]["name"]
    namespace = obj["metadata"].get("namespace")
    # The tools' namespaces are Pulumi's: Argo CD's own, and the monitoring
    # namespace's isolation (the app layer only adds dashboards there).
    if namespace == ARGOCD_NAMESPACE or (kind == "NetworkPolicy" and namespace == MONITORING):
        return False
    return (kind, None) not in PULUMI_OWNED and (kind, name) not in PULUMI_OWNED


def _with_wave(obj: dict[str, Any]) -> dict[str, Any]:
    wave = SYNC_WAVES.get(obj["kind"])
    if wave is None:
        return obj
    annotations = {**obj["metadata"].get("annotations", {}), "argocd.argoproj.io/sync-wave": wave}
    return {**obj, "metadata": {**obj["metadata"], "annotations": annotations}}


def manifests(stack: str) -> dict[str, str]:
    """File name → YAML text of the app layer, and the kustomization that lists it."""
    files: dict[str, str] = {}
    for obj in objects(stack):
        if not is_app_layer(obj):
            continue
        meta = obj["metadata"]
        name = f"apps/{obj['kind'].lower()}-{meta.get('namespace', 'cluster')}-{meta['name']}.yaml"
        if name in files:
            raise ValueError(f"two objects render to {name}")
        files[name] = yaml.safe_dump(_with_wave(obj), sort_keys=True, width=100)
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(name.removeprefix("apps/") for name in files),
    }
    files["apps/kustomization.yaml"] = (
        "# Rendered by `make render`; Argo CD's Application sets the images (registry, digest).\n"
        + yaml.safe_dump(kustomization, sort_keys=True, width=100)
    )
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
