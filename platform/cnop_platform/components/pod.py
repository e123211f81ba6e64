"""The hardened pod every platform service runs in."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi_kubernetes as k8s

from cnop_catalogue import Component
from cnop_platform.config import StackConfig
from cnop_platform.identity_keys import KEY_MOUNT, PUBLIC_CONFIG_MAP, PUBLIC_MOUNT

if TYPE_CHECKING:
    from cnop_platform.components.service import ServiceArgs


def labels(name: str) -> dict[str, str]:
    """The labels that select a component's pods (one name everywhere)."""
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "cnop"}


# One Python process makes use of about one core; beyond that it only queues.
CPU_LIMIT_MILLICORES = 1000
MIN_CPU_MILLICORES = 100
MEMORY_STEP_MIB = 64


def _round_up(value: float, step: int) -> int:
    return int(-(-value // step) * step)


def resources(component: Component, config: StackConfig) -> k8s.core.v1.ResourceRequirementsArgs:
    """Requests from the measured footprint at the stack's steady rate; limits with headroom.

    CPU request: what one replica spends at its share of the steady rate (the
    HPA scales out at 70 % of it); limit: one core per worker process. Memory
    request: the measured resident size rounded up; limit: twice that.
    """
    footprint = component.footprint
    share = config.load_steady_rps / config.replicas
    cpu = max(MIN_CPU_MILLICORES, _round_up(footprint.cpu_millicores_per_rps * share, 50))
    memory = _round_up(footprint.memory_mib, MEMORY_STEP_MIB)
    return k8s.core.v1.ResourceRequirementsArgs(
        requests={"cpu": f"{cpu}m", "memory": f"{memory}Mi"},
        limits={
            "cpu": f"{CPU_LIMIT_MILLICORES * footprint.workers}m",
            "memory": f"{2 * memory}Mi",
        },
    )


UID = 10001
# The only writable path of a read-only root filesystem: an emptyDir of the pod's own.
SCRATCH = "/tmp"  # noqa: S108


def scratch_mount() -> k8s.core.v1.VolumeMountArgs:
    """Where a container may write."""
    return k8s.core.v1.VolumeMountArgs(name="tmp", mount_path=SCRATCH)


def scratch_volume() -> k8s.core.v1.VolumeArgs:
    """The emptyDir behind scratch_mount()."""
    return k8s.core.v1.VolumeArgs(name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs())


def hardened_container_context() -> k8s.core.v1.SecurityContextArgs:
    """Non-root, read-only root filesystem, no privilege escalation, no capabilities."""
    return k8s.core.v1.SecurityContextArgs(
        run_as_non_root=True,
        read_only_root_filesystem=True,
        allow_privilege_escalation=False,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
    )


def hardened_pod_context() -> k8s.core.v1.PodSecurityContextArgs:
    """Every container of the pod runs as our unprivileged user, under RuntimeDefault seccomp."""
    return k8s.core.v1.PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=UID,
        run_as_group=UID,
        fs_group=UID,
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def workers_from_cpu_limit(container: str) -> k8s.core.v1.EnvVarArgs:
    """WORKERS: the container's CPU limit in whole cores (the downward API rounds a
    fraction up), so the processes follow the limit wherever it is set."""
    return k8s.core.v1.EnvVarArgs(
        name="WORKERS",
        value_from=k8s.core.v1.EnvVarSourceArgs(
            resource_field_ref=k8s.core.v1.ResourceFieldSelectorArgs(
                container_name=container, resource="limits.cpu", divisor="1"
            )
        ),
    )


def hardened_pod_spec(name: str, args: ServiceArgs) -> k8s.core.v1.PodSpecArgs:
    """Non-root, read-only root filesystem, no escalation, no capabilities, probes, limits."""
    component = args.component
    ports = [
        k8s.core.v1.ContainerPortArgs(name="http", container_port=component.port),
        k8s.core.v1.ContainerPortArgs(name="metrics", container_port=component.admin_port),
    ]
    env = [k8s.core.v1.EnvVarArgs(name=k, value=v) for k, v in sorted(args.env.items())]
    if component.footprint.workers > 1:
        env.append(workers_from_cpu_limit(name))
    env += [
        k8s.core.v1.EnvVarArgs(
            name=variable,
            value_from=k8s.core.v1.EnvVarSourceArgs(
                config_map_key_ref=k8s.core.v1.ConfigMapKeySelectorArgs(name=config_map, key=key)
            ),
        )
        for variable, (config_map, key) in sorted(args.env_from_config.items())
    ]
    env += [
        k8s.core.v1.EnvVarArgs(
            name=variable,
            value_from=k8s.core.v1.EnvVarSourceArgs(
                secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=secret, key=key)
            ),
        )
        for variable, (secret, key) in sorted(args.env_from_secret.items())
    ]
    mounts = [scratch_mount()]
    volumes = [scratch_volume()]
    if args.secret_volume:
        mounts.append(
            k8s.core.v1.VolumeMountArgs(
                name="signing-keys", read_only=True, mount_path="/var/run/secrets/cnop"
            )
        )
        volumes.append(
            k8s.core.v1.VolumeArgs(
                name="signing-keys",
                secret=k8s.core.v1.SecretVolumeSourceArgs(
                    secret_name=args.secret_volume, default_mode=0o400
                ),
            )
        )
    mounts += _identity_mounts(args)
    volumes += _identity_volumes(args)
    return k8s.core.v1.PodSpecArgs(
        service_account_name=name,
        automount_service_account_token=False,
        security_context=hardened_pod_context(),
        containers=[
            k8s.core.v1.ContainerArgs(
                name=name,
                image=args.config.image(name),
                ports=ports,
                env=env,
                resources=resources(component, args.config),
                liveness_probe=k8s.core.v1.ProbeArgs(
                    http_get=k8s.core.v1.HTTPGetActionArgs(path="/health", port="http"),
                    period_seconds=10,
                    failure_threshold=3,
                ),
                readiness_probe=k8s.core.v1.ProbeArgs(
                    http_get=k8s.core.v1.HTTPGetActionArgs(path="/ready", port="http"),
                    period_seconds=5,
                    failure_threshold=2,
                ),
                security_context=hardened_container_context(),
                volume_mounts=mounts,
            )
        ],
        volumes=volumes,
        topology_spread_constraints=spread(name),
    )


def _identity_mounts(args: ServiceArgs) -> list[k8s.core.v1.VolumeMountArgs]:
    mounts = []
    if args.identity_key:
        mounts.append(
            k8s.core.v1.VolumeMountArgs(name="identity-key", read_only=True, mount_path=KEY_MOUNT)
        )
    if args.identity_public_keys:
        mounts.append(
            k8s.core.v1.VolumeMountArgs(
                name="identity-public-keys", read_only=True, mount_path=PUBLIC_MOUNT
            )
        )
    return mounts


def _identity_volumes(args: ServiceArgs) -> list[k8s.core.v1.VolumeArgs]:
    volumes = []
    if args.identity_key:
        volumes.append(
            k8s.core.v1.VolumeArgs(
                name="identity-key",
                secret=k8s.core.v1.SecretVolumeSourceArgs(
                    secret_name=args.identity_key, default_mode=0o400
                ),
            )
        )
    if args.identity_public_keys:
        volumes.append(
            k8s.core.v1.VolumeArgs(
                name="identity-public-keys",
                config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=PUBLIC_CONFIG_MAP),
            )
        )
    return volumes


def spread(name: str) -> list[k8s.core.v1.TopologySpreadConstraintArgs]:
    """Replicas across zones, then across nodes: one zone or node going down never
    takes every replica. Soft, so a small cluster still schedules them."""
    return [
        k8s.core.v1.TopologySpreadConstraintArgs(
            max_skew=1,
            topology_key=key,
            when_unsatisfiable="ScheduleAnyway",
            label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels(name)),
        )
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]
