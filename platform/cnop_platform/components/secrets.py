"""cnop:security:AuthKeys: the auth keyring from Pulumi secret config into one Secret.

Only the auth Deployment mounts it; the value stays a Pulumi secret (encrypted
in state) and the renderer writes it redacted.
"""

from __future__ import annotations

import hashlib

import pulumi
import pulumi_kubernetes as k8s

from cnop_platform.config import StackConfig

SECRET_NAME = "auth-signing-keys"  # noqa: S105 - the Secret's name, not its value
KEYRING_FILE = "auth-keys.json"


class AuthKeys(pulumi.ComponentResource):
    """The Secret holding the auth service's signing keys."""

    def __init__(
        self, name: str, config: StackConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("cnop:security:AuthKeys", name, None, opts)
        keyring = pulumi.Config("cnop").require_secret("authSigningKeys")
        self.secret = k8s.core.v1.Secret(
            SECRET_NAME,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=SECRET_NAME,
                namespace=config.namespace,
                labels={"app.kubernetes.io/name": "auth", "app.kubernetes.io/part-of": "cnop"},
            ),
            type="Opaque",
            string_data={KEYRING_FILE: keyring},
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["stringData"]),
        )
        # A rotated keyring must roll the auth pods; its digest (safe to show: the
        # keys are 32+ random bytes) goes on their template where Pulumi applies it.
        self.checksum = pulumi.Output.unsecret(
            keyring.apply(lambda value: hashlib.sha256(value.encode()).hexdigest())
        )
        self.register_outputs({"secret": SECRET_NAME})
