"""cnop:security:IdentityKeys: each signing service's own key, and everyone's public keys.

Signed identity assertions (cnop_common/assertions.py) need, per signer
(gateway, user, order), an Ed25519 private key that only its own pods mount,
and, for the services that check them (auth, user, inventory, order), the
public keys. The private keys are one Pulumi secret (`cnop:identityKeys`,
made by `python -m cnop_platform.identity_keys`); the public keys are derived
from them here. Both are Pulumi's objects, never in deploy/.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys

import pulumi
import pulumi_kubernetes as k8s
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cnop_catalogue import SIGNERS
from cnop_platform.config import StackConfig

KEY_MOUNT = "/var/run/secrets/cnop-identity"
KEY_FILE = "identity-key.json"
PUBLIC_MOUNT = "/etc/cnop-identity"
PUBLIC_FILE = "identity-public-keys.json"
PUBLIC_CONFIG_MAP = "identity-public-keys"


def key_secret(signer: str) -> str:
    """The Secret that holds one signer's private key (mounted by its pods alone)."""
    return f"identity-key-{signer}"


def _entries(keyring: str) -> dict[str, tuple[str, str, str]]:
    """signer → (kid, private PEM, public PEM), from {signer: private PEM}."""
    found = {}
    raw = json.loads(keyring)
    missing = set(SIGNERS) - set(raw)
    if missing:
        raise ValueError(f"cnop:identityKeys lacks a key for {sorted(missing)}")
    for signer in SIGNERS:
        key = serialization.load_pem_private_key(raw[signer].encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"cnop:identityKeys: the key of {signer} is not Ed25519")
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        kid = f"{signer}-{hashlib.sha256(public).hexdigest()[:12]}"
        found[signer] = (kid, raw[signer], public.decode())
    return found


def _key_file(signer: str, found: dict[str, tuple[str, str, str]]) -> str:
    kid, private, _public = found[signer]
    return json.dumps({"issuer": signer, "kid": kid, "key": private})


class IdentityKeys(pulumi.ComponentResource):
    """One Secret per signer, one ConfigMap of public keys."""

    def __init__(
        self, name: str, config: StackConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("cnop:security:IdentityKeys", name, None, opts)
        entries = pulumi.Config("cnop").require_secret("identityKeys").apply(_entries)
        secret_opts = pulumi.ResourceOptions(parent=self, additional_secret_outputs=["stringData"])
        for signer in SIGNERS:
            content = entries.apply(functools.partial(_key_file, signer))
            k8s.core.v1.Secret(
                key_secret(signer),
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=key_secret(signer),
                    namespace=config.namespace,
                    labels={"app.kubernetes.io/name": signer, "app.kubernetes.io/part-of": "cnop"},
                ),
                type="Opaque",
                string_data={KEY_FILE: content},
                opts=secret_opts,
            )
        # Public keys are no secret: derived from the secret, shown as what they are.
        public = pulumi.Output.unsecret(
            entries.apply(
                lambda found: json.dumps(
                    {kid: {"issuer": s, "key": pem} for s, (kid, _private, pem) in found.items()},
                    sort_keys=True,
                )
            )
        )
        k8s.core.v1.ConfigMap(
            PUBLIC_CONFIG_MAP,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=PUBLIC_CONFIG_MAP,
                namespace=config.namespace,
                labels={"app.kubernetes.io/part-of": "cnop"},
            ),
            data={PUBLIC_FILE: public},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})


def new_keyring() -> str:
    """A fresh `cnop:identityKeys` value: one private key per signer."""
    keys = {}
    for signer in SIGNERS:
        key = Ed25519PrivateKey.generate()
        keys[signer] = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
    return json.dumps(keys)


if __name__ == "__main__":
    # pulumi config set --secret cnop:identityKeys "$(python -m cnop_platform.identity_keys)"
    sys.stdout.write(new_keyring())
