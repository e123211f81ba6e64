"""The program rendered once per stack under Pulumi's mocks, shared by the platform tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pulumi
import pytest
import yaml

from cnop_platform import render
from cnop_platform.render import STACK_NAMES, manifests, run

Options = dict[tuple[str, str], pulumi.ResourceOptions]  # (type, name) → its options


@pytest.fixture(scope="session")
def rendered() -> dict[str, dict[str, str]]:
    """Stack → file name → YAML text (what deploy/<stack>/ holds)."""
    return {stack: manifests(stack) for stack in STACK_NAMES}


@pytest.fixture(scope="session")
def objects(rendered) -> dict[str, list[dict[str, Any]]]:
    """Stack → every object of the app layer Argo CD applies."""
    return {
        stack: [
            yaml.safe_load(text)
            for name, text in files.items()
            if not name.endswith("kustomization.yaml")
        ]
        for stack, files in rendered.items()
    }


@pytest.fixture(scope="session")
def cluster_objects() -> dict[str, list[dict[str, Any]]]:
    """Stack → every Kubernetes object the program declares (Pulumi's own included)."""
    return {stack: render.objects(stack) for stack in STACK_NAMES}


@pytest.fixture(scope="session")
def declared() -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
    """Stack → every resource the program declared (type, name, inputs), cloud ones included."""
    return {stack: run(stack).resources for stack in STACK_NAMES}


@contextmanager
def recording_options() -> Iterator[Options]:
    """Record the options (depends_on, protect, ...) of every custom resource declared."""
    recorded: Options = {}
    original = pulumi.CustomResource.__init__

    def record(self: Any, t: str, name: str, props: Any = None, opts: Any = None, *rest: Any):
        recorded[(t, name)] = opts or pulumi.ResourceOptions()
        original(self, t, name, props, opts, *rest)

    pulumi.CustomResource.__init__ = record  # type: ignore[method-assign,assignment]
    try:
        yield recorded
    finally:
        pulumi.CustomResource.__init__ = original  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def options() -> dict[str, Options]:
    """Stack → the options of every custom resource, by (type, name)."""
    found = {}
    for stack in STACK_NAMES:
        with recording_options() as recorded:
            run(stack)
        found[stack] = dict(recorded)
    return found
