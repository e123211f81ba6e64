"""`make preview|deploy|destroy|images STACK=<stack>`: the deploy workflow of an AWS stack.

Who runs `pulumi up`: a person with the stack's administrator role, or CI with
its own (both listed in `cnop:clusterAdmins`), through these verbs only.

- preview: `pulumi preview` with the CrossGuard pack, and the same rules over
  the rendered app layer Argo CD will apply.
- images: build every image, push it to this stack's ECR repositories, and
  record each pushed digest as `cnop:imageDigests.<image>` in the stack's
  config: Argo CD then runs exactly those digests. A tag already in a
  repository is not pushed again (tags are immutable; a rebuild would make
  another digest): its digest is recorded as it is.
- deploy, in one pass on an empty account or a running stack:
  1. `pulumi up --target` the Registry component (the repositories alone);
  2. images, as above;
  3. `pulumi up`: everything else; the Application pins the pushed digests, and
     the edge is made once Argo CD reports the app layer healthy;
  4. a kubeconfig context `cnop-<stack>` for the new cluster (`aws eks
     update-kubeconfig`, from the stack's outputs);
  5. a wait until Argo CD runs this commit and these digests (rollout.py);
  6. `make verify STACK=<stack>`: the four verdicts on the screen, and the exit
     status of the whole deploy.
- destroy: `pulumi destroy`; on prod, protected resources (tables, the
  cluster, Loki's bucket) make it refuse until someone unprotects them.

The commands are built by plain functions so that tests can read them; this
machine has no Pulumi CLI, Docker or AWS account to run them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from cnop_catalogue import IMAGES, VERIFY_IMAGE
from cnop_platform.components import registry
from cnop_platform.components.gitops import ARGOCD_NAMESPACE
from cnop_platform.render import REPO
from cnop_platform.rollout import not_rolled_out

Command = list[str]
CLOUD_STACKS = ("staging", "prod")
NEEDS = ("pulumi", "docker", "aws", "kubectl")
ROLLOUT_SECONDS = 15 * 60
POLL_SECONDS = 10


def project() -> str:
    """The Pulumi project's name (Pulumi.yaml): the second part of every URN."""
    return str(yaml.safe_load((REPO / "Pulumi.yaml").read_text())["name"])


def registry_urn(stack: str) -> str:
    """The Registry component's URN (pulumi/pulumi sdk/go/common/resource/urn.go NewURN:
    a top-level resource's type is its own, the root stack's left out)."""
    return f"urn:pulumi:{stack}::{project()}::{registry.TYPE}::{registry.NAME}"


def context(stack: str) -> str:
    """The kubeconfig context the deploy writes for the stack's cluster."""
    return f"cnop-{stack}"


def dockerfile(image: str) -> Path:
    """Where an image is built from (the verification image: loadtests/)."""
    folder = "loadtests" if image == VERIFY_IMAGE else f"services/{image}"
    return REPO / folder / "Dockerfile"


def pulumi(stack: str, *args: str) -> Command:
    """A Pulumi CLI call on one stack of this project."""
    return ["pulumi", *args, "--stack", stack, "--cwd", str(REPO)]


def preview(stack: str) -> list[Command]:
    """What `pulumi up` would change, checked by the policy pack; the app layer too."""
    return [
        pulumi(stack, "preview", "--diff", "--policy-pack", str(REPO / "policies" / "crossguard")),
        [sys.executable, "-m", "cnop_policies.manifests", str(REPO / "deploy" / stack)],
    ]


def up(stack: str, *targets: str) -> Command:
    """Apply the program (or only `targets`, by URN), with the policy pack enforced."""
    command = pulumi(stack, "up", "--yes", "--policy-pack", str(REPO / "policies" / "crossguard"))
    for target in targets:
        command += ["--target", target]
    return command


def kubeconfig(stack: str, cluster_name: str, region: str) -> Command:
    """Write (or refresh) the context `cnop-<stack>` for the stack's EKS cluster."""
    return [
        "aws",
        "eks",
        "update-kubeconfig",
        "--name",
        cluster_name,
        "--region",
        region,
        "--alias",
        context(stack),
    ]


def existing_digest(repository: str, tag: str) -> Command:
    """Ask ECR for the digest a tag already names (fails when the tag is not there)."""
    registry_host, name = repository.split("/", 1)
    return [
        "aws",
        "ecr",
        "describe-images",
        "--region",
        registry_host.split(".")[3],
        "--repository-name",
        name,
        "--image-ids",
        f"imageTag={tag}",
        "--query",
        "imageDetails[0].imageDigest",
        "--output",
        "text",
    ]


def push(image: str, repository: str, tag: str, metadata: Path) -> list[Command]:
    """Build one image for the nodes' platform and push it; its digest lands in `metadata`."""
    return [
        [
            "docker",
            "buildx",
            "build",
            "--platform",
            "linux/amd64",
            "--file",
            str(dockerfile(image)),
            "--tag",
            f"{repository}:{tag}",
            "--metadata-file",
            str(metadata),
            "--push",
            str(REPO),
        ],
    ]


def record_digest(stack: str, image: str, digest: str) -> Command:
    """Pin the stack to what was pushed (committed with the stack file)."""
    return pulumi(stack, "config", "set", "--path", f"cnop:imageDigests.{image}", digest)


def application(stack: str) -> Command:
    """The stack's Argo CD Application as JSON, through the deploy's context."""
    return [
        "kubectl",
        "--context",
        context(stack),
        "--namespace",
        ARGOCD_NAMESPACE,
        "get",
        f"application/cnop-{stack}",
        "--output",
        "json",
    ]


def wait_rolled_out(stack: str, revision: str, images: list[str]) -> None:
    """Poll Argo CD until it runs `revision` with exactly `images`, within ROLLOUT_SECONDS."""
    deadline = time.monotonic() + ROLLOUT_SECONDS
    while True:
        answer = subprocess.run(application(stack), check=False, text=True, capture_output=True)
        why = (
            not_rolled_out(json.loads(answer.stdout), revision, images)
            if answer.returncode == 0
            else answer.stderr.strip()
        )
        if why is None:
            print(f"argo cd: cnop-{stack} runs {revision[:12]} with the pushed images", flush=True)
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"argo cd did not roll out cnop-{stack}: {why}")
        print(f"argo cd: {why}", flush=True)
        time.sleep(POLL_SECONDS)


def verify(stack: str) -> Command:
    """The post-deploy verdicts against the stack's public endpoint."""
    return ["make", "-C", str(REPO), "verify", f"STACK={stack}"]


def destroy(stack: str) -> list[Command]:
    """Tear the stack down (protected resources refuse)."""
    return [pulumi(stack, "destroy", "--yes")]


def run(command: Command) -> str:
    """Run one step, echoing it; stop the workflow on failure."""
    print("+", " ".join(command), flush=True)
    result = subprocess.run(command, check=False, text=True, stdout=subprocess.PIPE)
    print(result.stdout, end="")
    if result.returncode != 0:
        raise SystemExit(f"step failed ({result.returncode}): {' '.join(command)}")
    return result.stdout


def outputs(stack: str) -> dict[str, object]:
    """The stack's outputs (repositories, clusterName, region)."""
    return dict(json.loads(run(pulumi(stack, "stack", "output", "--json"))))


def images(stack: str, tag: str) -> list[str]:
    """Build, push and pin every image of the stack; the pinned references."""
    repositories = dict(outputs(stack)["repositories"])  # type: ignore[call-overload]
    registry_host = next(iter(repositories.values())).split("/", 1)[0]
    login = subprocess.run(
        ["aws", "ecr", "get-login-password", "--region", registry_host.split(".")[3]],
        check=True,
        text=True,
        capture_output=True,
    ).stdout
    subprocess.run(
        ["docker", "login", "--username", "AWS", "--password-stdin", registry_host],
        input=login,
        check=True,
        text=True,
    )
    pinned = []
    for image in IMAGES:
        repository = repositories[image]
        found = subprocess.run(
            existing_digest(repository, tag), check=False, text=True, capture_output=True
        )
        digest = found.stdout.strip() if found.returncode == 0 else ""
        if digest.startswith("sha256:"):
            print(f"{image}: {tag} is already pushed as {digest}; not rebuilt", flush=True)
        else:
            metadata = REPO / "var" / "deploy" / f"{stack}-{image}.json"
            metadata.parent.mkdir(parents=True, exist_ok=True)
            for command in push(image, repository, tag, metadata):
                run(command)
            digest = json.loads(metadata.read_text())["containerimage.digest"]
        run(record_digest(stack, image, digest))
        pinned.append(f"{repository}@{digest}")
    return pinned


def deploy(stack: str, tag: str) -> None:
    """One pass from an empty account (or a running stack) to a verified stack."""
    run(up(stack, registry_urn(stack)))
    pinned = images(stack, tag)
    run(up(stack))
    found = outputs(stack)
    run(kubeconfig(stack, str(found["clusterName"]), str(found["region"])))
    revision = run(["git", "-C", str(REPO), "rev-parse", "HEAD"]).strip()
    wait_rolled_out(stack, revision, pinned)
    run(verify(stack))


def main() -> None:
    """Run one verb of the workflow on one cloud stack."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("verb", choices=("preview", "images", "deploy", "destroy"))
    parser.add_argument("stack", choices=CLOUD_STACKS)
    parser.add_argument("--tag", default="", help="image tag to push (default: the git commit)")
    args = parser.parse_args()
    missing = [tool for tool in NEEDS if shutil.which(tool) is None]
    if missing:
        raise SystemExit(f"{args.verb} needs {', '.join(missing)} on PATH (docs/deploying.md)")
    tag = args.tag or run(["git", "-C", str(REPO), "rev-parse", "--short=12", "HEAD"]).strip()
    if args.verb == "preview":
        for command in preview(args.stack):
            run(command)
    elif args.verb == "images":
        images(args.stack, tag)
    elif args.verb == "deploy":
        deploy(args.stack, tag)
    else:
        for command in destroy(args.stack):
            run(command)


if __name__ == "__main__":
    main()
