"""The deploy workflow's commands, read without running them (no Pulumi CLI, Docker or AWS here)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cnop_catalogue import IMAGES
from cnop_platform import deploy

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]


def test_every_image_has_a_dockerfile():
    for image in IMAGES:
        assert deploy.dockerfile(image).is_file(), image


def test_preview_and_up_enforce_the_policy_pack_and_name_the_stack():
    (pulumi_preview, manifests) = deploy.preview("prod")
    for command in (pulumi_preview, deploy.up("prod")):
        assert command[command.index("--policy-pack") + 1].endswith("policies/crossguard")
        assert command[command.index("--stack") + 1] == "prod"
    assert manifests[-2:] == ["cnop_policies.manifests", str(REPO / "deploy" / "prod")]


def test_images_are_pushed_and_pinned_by_digest(tmp_path):
    (build,) = deploy.push(
        "gateway",
        "acct.dkr.ecr.eu-west-1.amazonaws.com/cnop-prod/gateway",
        "abc123",
        tmp_path / "m.json",
    )
    assert "--push" in build
    assert build[build.index("--metadata-file") + 1] == str(tmp_path / "m.json")
    record = deploy.record_digest("prod", "gateway", "sha256:" + "0" * 64)
    assert record[:5] == ["pulumi", "config", "set", "--path", "cnop:imageDigests.gateway"]


def test_deploy_ends_with_make_verify_after_argo_cd_reports_healthy():
    assert deploy.verify("staging") == ["make", "-C", str(REPO), "verify", "STACK=staging"]
    assert "application/cnop-staging" in deploy.synced("staging")


@pytest.mark.parametrize("verb", ["preview", "deploy", "destroy", "images"])
def test_make_refuses_a_verb_without_a_stack(verb):
    result = subprocess.run(
        ["/usr/bin/make", "-s", verb], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "STACK=staging|prod is required" in result.stdout


def test_the_workflow_says_what_it_lacks_instead_of_failing_midway():
    result = subprocess.run(
        [str(REPO / ".venv" / "bin" / "python"), "-m", "cnop_platform.deploy", "preview", "prod"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/nonexistent"},
    )
    assert result.returncode != 0
    assert "preview needs pulumi, docker, aws, kubectl on PATH" in result.stderr
