"""The verification image holds everything verification imports: its files, laid out as the
Dockerfile lays them, run with nothing else on the path (no editable install), collect and import.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO / "loadtests" / "Dockerfile"
IMAGE_ROOT = "/app"


def lay_out(root: Path) -> list[str]:
    """Copy what the Dockerfile's COPY lines copy under `root`; return its PYTHONPATH there."""
    python_path: list[str] = []
    for line in DOCKERFILE.read_text().splitlines():
        words = shlex.split(line) if line.startswith(("COPY ", "ENV PYTHONPATH=")) else []
        if words[:1] == ["COPY"]:
            *sources, destination = words[1:]
            target = root / destination.removeprefix(IMAGE_ROOT).lstrip("/")
            for source in sources:
                path = REPO / source
                into = target / path.name if destination.endswith("/") else target
                into.parent.mkdir(parents=True, exist_ok=True)
                if path.is_dir():
                    shutil.copytree(path, into, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy(path, into)
        if words[:1] == ["ENV"] and words[1].startswith("PYTHONPATH="):
            entries = words[1].removeprefix("PYTHONPATH=").split(":")
            python_path = [str(root / e.removeprefix(IMAGE_ROOT).lstrip("/")) for e in entries]
    return python_path


def in_image(root: Path, python_path: list[str], *command: str) -> subprocess.CompletedProcess[str]:
    # -S: no site module, so no .pth file puts the workspace's folders on the path;
    # the installed libraries come in by name only.
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": ":".join([*python_path, sysconfig.get_paths()["purelib"]]),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return subprocess.run(
        [sys.executable, "-S", *command],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("verify-image")
    return root, lay_out(root)


ENTRY_POINTS = """
import cnop_loadtests.verify
from cnop_loadtests.run import stack_load_targets
from cnop_policies import slo
slo.load()  # the gate's numbers
stack_load_targets("prod")  # the stack's capacity figures
print("ok")
"""


def test_the_entry_points_and_their_data_are_in_the_image(image):
    root, path = image
    done = in_image(root, path, "-c", ENTRY_POINTS)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_the_policy_suites_collect_in_the_image(image):
    root, path = image
    done = in_image(
        root,
        path,
        "-m",
        "pytest",
        "--collect-only",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/postdeploy",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " tests collected" in done.stdout or "tests collected" in done.stdout


def test_the_locustfile_loads_in_the_image(image):
    root, path = image
    done = in_image(root, path, "-m", "locust", "-f", "loadtests/locustfile.py", "--list")
    assert done.returncode == 0, done.stderr
    assert {"Browser", "Newcomer", "Trader"} <= set(done.stdout.split())


def test_the_image_installs_only_workspace_dependencies():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = set(project["dependencies"]) | set(project["optional-dependencies"]["dev"])
    lines = (REPO / "loadtests" / "requirements.txt").read_text().splitlines()
    wanted = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    assert wanted
    assert wanted <= declared


def test_the_image_runs_as_our_unprivileged_user():
    text = DOCKERFILE.read_text()
    assert "USER 10001" in text
    assert text.index("pip install") < text.index("COPY loadtests/cnop_loadtests")
