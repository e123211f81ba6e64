"""The secrets of a local copy of the platform, generated on first use under <root>/secrets.

Each copy (make up's, each test platform's) has its own: an auth keyring, and an
Ed25519 key per service that signs identity assertions plus the public keys
every checking service reads. Private files are readable by their owner only.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from cnop_catalogue import SIGNERS
from cnop_common.assertions import new_identity_keys


def identity_public_keys(root: Path) -> Path:
    """The public keys every checking service reads (written with the private ones)."""
    return root / "secrets" / "identity" / "public-keys.json"


def identity_keys(root: Path) -> dict[str, Path]:
    """Each signer's own private key file: generated once, readable only by its owner."""
    folder = root / "secrets" / "identity"
    files = {name: folder / f"{name}.json" for name in SIGNERS}
    public_file = identity_public_keys(root)
    if not public_file.exists() or not all(path.exists() for path in files.values()):
        folder.mkdir(parents=True, exist_ok=True)
        public = {}
        for name, path in files.items():
            private, entry = new_identity_keys(name, f"{name}-local")
            _write_private(path, json.dumps(private))
            public[f"{name}-local"] = entry
        public_file.write_text(json.dumps(public))
    return files


def auth_keyring(root: Path, kid: str) -> Path:
    """The auth service's keyring: generated once, readable only by its owner."""
    path = root / "secrets" / "auth-keys.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_private(path, json.dumps({kid: secrets.token_urlsafe(48)}))
    return path


def _write_private(path: Path, text: str) -> None:
    # Created 0600 before anything is written: never readable by others, even briefly.
    path.unlink(missing_ok=True)
    path.touch(mode=0o600)
    path.write_text(text)
