"""Images install what the workspace declares: requirement files never drift from pyproject."""

import tomllib
from pathlib import Path

import pytest

from cnop_catalogue import COMPONENTS

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[1]
SERVICES = ["user", "inventory", "order", "auth", "gateway", "web"]
OTLP = {"opentelemetry-sdk>=1.27", "opentelemetry-exporter-otlp-proto-http>=1.27"}


def workspace_dependencies() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return set(project["dependencies"])


@pytest.mark.parametrize("service", SERVICES)
def test_image_requirements_are_workspace_dependencies(service):
    lines = (REPO / "services" / service / "requirements.txt").read_text().splitlines()
    requirements = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    assert requirements, "empty requirements file"
    assert requirements <= workspace_dependencies()


@pytest.mark.parametrize("service", SERVICES)
def test_images_can_export_spans(service):
    # The platform program sets OTEL_EXPORTER_OTLP_ENDPOINT for every service, which
    # imports the OpenTelemetry SDK at start-up: without it the pod would crash.
    lines = (REPO / "services" / service / "requirements.txt").read_text().splitlines()
    assert {line.strip() for line in lines} >= OTLP


def test_every_catalogue_component_is_packaged():
    assert {component.name for component in COMPONENTS} == set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_dockerfile_runs_as_non_root_with_a_healthcheck(service):
    dockerfile = (REPO / "services" / service / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert "USER 10001" in dockerfile
    assert "HEALTHCHECK" in dockerfile
    assert "/health" in dockerfile
    # Dependencies are installed before the code is copied (their own layer).
    assert dockerfile.index("pip install") < dockerfile.index(f"COPY services/{service}/cnop_")


def test_no_package_named_platform_shadows_the_standard_library():
    assert not (REPO / "platform" / "__init__.py").exists()


def test_auth_image_carries_no_shared_code():
    dockerfile = (REPO / "services" / "auth" / "Dockerfile").read_text()
    assert "cnop_common" not in dockerfile
