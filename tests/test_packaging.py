"""Images install what the workspace declares: requirement files never drift from pyproject."""

import ast
import re
import sys
import tomllib
from importlib import metadata
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


def _imports(path: Path) -> set[str]:
    """Dotted names a module imports, at any depth in its code (`from a import b`: a.b)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _image_imports(service: str) -> set[str]:
    """What the image's code imports: every module of the service's own package and,
    followed from there, the modules of cnop_common it reaches (not the whole copy)."""
    own = REPO / "services" / service / f"cnop_{service}"
    todo = list(own.rglob("*.py"))
    seen: set[Path] = set()
    names: set[str] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in _imports(path):
            names.add(name)
            parts = name.split(".")
            if parts[0] == "cnop_common" and len(parts) > 1:
                module = REPO / "services" / "common" / "cnop_common" / f"{parts[1]}.py"
                if module.is_file():
                    todo.append(module)
    return names


def _distribution(requirement: str) -> tuple[str, set[str]]:
    """A requirement's normalized distribution name and the extras it asks for."""
    match = re.match(r"([A-Za-z0-9_.-]+)(?:\[([^\]]*)\])?", requirement)
    assert match, requirement
    extras = {e.strip() for e in (match.group(2) or "").split(",") if e.strip()}
    return _normalized(match.group(1)), extras


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _installed_closure(requirements: set[str]) -> set[str]:
    """Every distribution `requirements` bring in, as pip would resolve them here."""
    seen: set[str] = set()
    todo = [_distribution(line) for line in requirements]
    while todo:
        name, extras = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            needs = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # declared, not installed here: a leaf of what we can see
        for dependency in needs:
            spec, _, marker = dependency.partition(";")
            wanted = re.findall(r"""extra\s*==\s*['"]([^'"]+)['"]""", marker)
            if wanted and not set(wanted) & extras:
                continue
            if "python_version" in marker or "sys_platform" in marker:
                continue  # markers of other platforms: not this image's
            todo.append(_distribution(spec.strip()))
    return seen


@pytest.mark.parametrize("service", SERVICES)
def test_an_image_installs_everything_its_code_imports(service):
    """The images install services/<name>/requirements.txt only: a module the copied
    code imports that nothing there brings in would crash the pod at start-up
    (the gateway imported redis, every signer cryptography, inventory orjson)."""
    lines = (REPO / "services" / service / "requirements.txt").read_text().splitlines()
    requirements = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    installed = _installed_closure(requirements)
    distributions = metadata.packages_distributions()
    missing = {}
    for module in _image_imports(service):
        top = module.split(".")[0]
        if top in sys.stdlib_module_names or top.startswith("cnop_") or top == "__future__":
            continue
        provided = {_normalized(d) for d in distributions.get(top, [top])}
        if not provided & installed:
            missing[top] = sorted(provided)
    assert missing == {}, f"{service}: imported but not installed in the image: {missing}"
