"""The program rendered once per stack under Pulumi's mocks, shared by the platform tests."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from cnop_platform.render import STACK_NAMES, manifests, run


@pytest.fixture(scope="session")
def rendered() -> dict[str, dict[str, str]]:
    """Stack → file name → YAML text."""
    return {stack: manifests(stack) for stack in STACK_NAMES}


@pytest.fixture(scope="session")
def objects(rendered) -> dict[str, list[dict[str, Any]]]:
    """Stack → every rendered Kubernetes object."""
    return {
        stack: [yaml.safe_load(text) for text in files.values()]
        for stack, files in rendered.items()
    }


@pytest.fixture(scope="session")
def declared() -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
    """Stack → every resource the program declared (type, name, inputs), cloud ones included."""
    return {stack: run(stack).resources for stack in STACK_NAMES}
