"""The in-cluster store image runs the same pinned DynamoDB Local as `make up`."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from cnop_catalogue import STORE_PORT
from cnop_platform.components.pod import UID
from cnop_platform.local import dynamodb_local

pytestmark = pytest.mark.unit

DOCKERFILE = Path(__file__).resolve().parents[2] / "platform" / "store" / "Dockerfile"


def _arg(name: str) -> str:
    match = re.search(rf"^ARG {name}=(\S+)$", DOCKERFILE.read_text(), re.MULTILINE)
    assert match, f"no ARG {name}= in {DOCKERFILE}"
    return match.group(1)


def test_the_image_pins_the_same_package_and_release():
    assert _arg("PACKAGE_VERSION") == dynamodb_local.VERSION
    assert _arg("RELEASE") == dynamodb_local.RELEASE
    integrity = base64.b64decode(dynamodb_local.INTEGRITY.removeprefix("sha512-")).hex()
    assert _arg("PACKAGE_SHA512") == integrity
    assert "sha512sum -c" in DOCKERFILE.read_text()


def test_the_image_starts_the_launcher_on_the_catalogue_port_without_telemetry():
    text = DOCKERFILE.read_text()
    entrypoint = text[text.index("ENTRYPOINT") :]
    assert "StoreLauncher" in entrypoint
    assert f'"-port", "{STORE_PORT}"' in entrypoint
    assert '"-disableTelemetry"' in entrypoint
    assert "COPY platform/store/StoreLauncher.java" in text
    assert f"USER {UID}" in text  # the pod runs as this user
