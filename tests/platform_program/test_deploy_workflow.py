"""The deploy workflow's commands, read without running them (no Pulumi CLI, Docker or AWS here)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cnop_catalogue import IMAGES
from cnop_platform import deploy, helm_values
from cnop_platform.render import SECRET_SIG
from cnop_platform.rollout import not_rolled_out

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


def test_deploy_ends_with_make_verify_through_the_context_it_wrote():
    assert deploy.verify("staging") == ["make", "-C", str(REPO), "verify", "STACK=staging"]
    written = deploy.kubeconfig("staging", "cnop-staging", "eu-west-1")
    assert written[:3] == ["aws", "eks", "update-kubeconfig"]
    assert written[written.index("--name") + 1] == "cnop-staging"
    assert written[written.index("--region") + 1] == "eu-west-1"
    assert written[written.index("--alias") + 1] == "cnop-staging"
    asked = deploy.application("staging")
    assert asked[asked.index("--context") + 1] == "cnop-staging"
    assert "application/cnop-staging" in asked


def test_the_first_up_creates_only_the_repositories():
    command = deploy.up("prod", deploy.registry_urn("prod"))
    assert command[command.index("--target") + 1] == (
        "urn:pulumi:prod::cnop::cnop:registry:Registry::cnop"
    )
    assert "--target" not in deploy.up("prod")


def test_an_existing_tag_is_looked_up_in_its_own_repository_and_region():
    asked = deploy.existing_digest(
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cnop-prod/gateway", "abc123"
    )
    assert asked[asked.index("--region") + 1] == "eu-west-1"
    assert asked[asked.index("--repository-name") + 1] == "cnop-prod/gateway"
    assert asked[asked.index("--image-ids") + 1] == "imageTag=abc123"


REVISION = "0123456789abcdef0123456789abcdef01234567"
REPOSITORY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cnop-prod"
NEW = [f"{REPOSITORY}/gateway@sha256:{'1' * 64}", f"{REPOSITORY}/web@sha256:{'2' * 64}"]


def argo(revision=REVISION, images=NEW, sync="Synced", phase="Succeeded", health="Healthy"):
    """An Application's status as Argo CD reports it (only the fields read)."""
    return {
        "status": {
            "sync": {"status": sync, "revision": revision},
            "operationState": {"phase": phase},
            "summary": {"images": list(images)},
            "health": {"status": health},
        }
    }


def why(application, images=NEW) -> str:
    """Why a rollout is not done (a test's way of saying it must not be)."""
    reason = not_rolled_out(application, REVISION, images)
    assert reason is not None
    return reason


def test_a_rollout_is_done_only_at_this_commit_with_these_images_and_healthy():
    assert not_rolled_out(argo(), REVISION, NEW) is None
    # A re-deploy before Argo CD has seen it: Healthy, but the old revision and images.
    old = [f"{REPOSITORY}/gateway@sha256:{'9' * 64}", NEW[1]]
    assert "waiting for" in why(argo(revision="f" * 40, images=old))
    assert "not yet running" in why(argo(images=old))
    assert "still running" in why(argo(images=[*NEW, old[0]]))
    assert "sync status 'OutOfSync'" in why(argo(sync="OutOfSync"))
    assert "last sync 'Running'" in why(argo(phase="Running"))
    assert "health 'Progressing'" in why(argo(health="Progressing"))
    assert "waiting for" in why({})
    # Images of other repositories (a sidecar, say) are none of its business.
    assert not_rolled_out(argo(images=[*NEW, "docker.io/library/busybox:1"]), REVISION, NEW) is None


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


def test_every_pinned_chart_has_a_command_that_checks_it(capsys):
    assert helm_values.main(["prod"]) == 0
    commands = capsys.readouterr().out.splitlines()
    charts = {line.split()[2] for line in commands}
    assert charts == {
        "cluster-autoscaler",
        "aws-load-balancer-controller",
        "argo-cd",
        "kube-prometheus-stack",
        "loki",
        "tempo",
        "alloy",
    }
    for line in commands:
        values = REPO / line.split("--values ")[1].split()[0]
        assert values.is_file(), line
        assert SECRET_SIG not in values.read_text()  # plain values, helm can read them
