"""The platform rules as Pulumi CrossGuard policies, enforced on a real `pulumi preview/up`.

Self-contained: this pack imports only the standard library and pulumi-policy
(its requirements.txt), so Pulumi's own policy virtualenv loads it from any
shell. The same rules run over the rendered app layer in deploy/ (what Argo
CD applies, which a `pulumi up` of an Argo CD stack never sees):
`cnop_policies.manifests` and policies/tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

BACKENDS = frozenset({"auth", "user", "inventory", "order", "store"})
AUTH_SECRET = "auth-signing-keys"  # noqa: S105 - the Secret's name, not its value
# The one component a load balancer may front, and the only port it may reach
# (the catalogue's; policies/tests checks they agree).
PUBLIC = "gateway"
PUBLIC_API_PORT = 8080
NAME_LABEL = "app.kubernetes.io/name"


DEPLOYMENT = "kubernetes:apps/v1:Deployment"
JOB = "kubernetes:batch/v1:Job"


def _name(props: Mapping[str, Any]) -> str:
    return str((props.get("metadata") or {}).get("name", ""))


def backends_are_cluster_internal(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Only the gateway's API port may face the outside: every other Service is ClusterIP."""
    if args.resource_type != "kubernetes:core/v1:Service":
        return
    spec = args.props.get("spec") or {}
    kind = spec.get("type", "ClusterIP")
    if kind not in ("LoadBalancer", "NodePort"):
        return
    name = _name(args.props)
    if name in BACKENDS or (spec.get("selector") or {}).get(NAME_LABEL) != PUBLIC:
        report(f"Service {name} must be ClusterIP, not {kind}: only the gateway is public", None)
        return
    targets = {_port(port.get("targetPort")) for port in spec.get("ports") or []}
    if targets != {str(PUBLIC_API_PORT)}:
        only = f"only the API port {PUBLIC_API_PORT}"
        report(f"Service {name} exposes {sorted(targets)}: {only}", None)


def _port(value: object) -> str:
    # The engine hands numbers over as floats (8080.0); port names stay names.
    return str(int(value)) if isinstance(value, (int, float)) else str(value)


def containers_are_hardened(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Resources, probes, non-root, read-only root filesystem, no escalation, no capabilities.

    Jobs (the post-deploy check) run to completion: every rule but the probes."""
    if args.resource_type not in (DEPLOYMENT, JOB):
        return
    pod = args.props["spec"]["template"]["spec"]
    if not (pod.get("securityContext") or {}).get("runAsNonRoot"):
        report(f"{_name(args.props)}: the pod must run as non-root", None)
    for container in pod["containers"]:
        where = f"{_name(args.props)}/{container['name']}"
        resources = container.get("resources") or {}
        if not resources.get("requests") or not resources.get("limits"):
            report(f"{where}: requests and limits are required", None)
        probes = container.get("livenessProbe") and container.get("readinessProbe")
        if args.resource_type == DEPLOYMENT and not probes:
            report(f"{where}: liveness and readiness probes are required", None)
        context = container.get("securityContext") or {}
        if not (
            context.get("runAsNonRoot")
            and context.get("readOnlyRootFilesystem")
            and context.get("allowPrivilegeEscalation") is False
            and (context.get("capabilities") or {}).get("drop") == ["ALL"]
        ):
            report(f"{where}: non-root, read-only root, no escalation, drop ALL", None)


def auth_keys_only_in_auth(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """The signing keys' Secret is mounted into the auth pods and nowhere else."""
    if args.resource_type != "kubernetes:apps/v1:Deployment":
        return
    volumes = args.props["spec"]["template"]["spec"].get("volumes") or []
    mounts_keys = any((v.get("secret") or {}).get("secretName") == AUTH_SECRET for v in volumes)
    if mounts_keys and _name(args.props) != "auth":
        report(f"{_name(args.props)} mounts {AUTH_SECRET}: only auth may", None)


def tables_are_protected(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """On-demand, point-in-time recovery, encryption; deletion protection in prod."""
    if args.resource_type != "aws:dynamodb/table:Table":
        return
    props, name = args.props, str(args.props.get("name", args.name))
    if not (props.get("pointInTimeRecovery") or {}).get("enabled"):
        report(f"table {name}: point-in-time recovery must be on", None)
    if not (props.get("serverSideEncryption") or {}).get("enabled"):
        report(f"table {name}: encryption must be on", None)
    if props.get("billingMode") != "PAY_PER_REQUEST":
        report(f"table {name}: billing must be on demand", None)
    if name.startswith("cnop-prod-") and not props.get("deletionProtectionEnabled"):
        report(f"production table {name}: deletion protection must be on", None)


def _policy(
    name: str, validate: Callable[[ResourceValidationArgs, ReportViolation], None]
) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=name,
        description=(validate.__doc__ or name).strip(),
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


POLICIES: list[Policy] = [
    _policy("backends-cluster-internal", backends_are_cluster_internal),
    _policy("containers-hardened", containers_are_hardened),
    _policy("auth-keys-only-in-auth", auth_keys_only_in_auth),
    _policy("tables-protected", tables_are_protected),
]
