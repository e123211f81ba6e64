"""`make preview|deploy|destroy|images STACK=<stack>`: the deploy workflow of an AWS stack.

Who runs `pulumi up`: a person with the stack's administrator role, or CI with
its own (both listed in `cnop:clusterAdmins`), through these verbs only.

- preview: `pulumi preview` with the CrossGuard pack, and the same rules over
  the rendered app layer Argo CD will apply.
- images: build every image, push it to this stack's ECR repositories, and
  record each pushed digest as `cnop:imageDigests.<image>` in the stack's
  config: Argo CD then runs exactly those digests.
- deploy: `pulumi up` (the cluster, its repositories, everything Pulumi owns),
  images, `pulumi up` again (the Application now pins the new digests), a wait
  for Argo CD to report the app healthy, then `make verify STACK=<stack>`; any
  failing step stops the rest.
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
from pathlib import Path

from cnop_catalogue import IMAGES, VERIFY_IMAGE
from cnop_platform.render import REPO

Command = list[str]
CLOUD_STACKS = ("staging", "prod")
NEEDS = ("pulumi", "docker", "aws", "kubectl")
SYNC_TIMEOUT = "15m"


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


def up(stack: str) -> Command:
    """Apply the program, with the policy pack enforced."""
    return pulumi(stack, "up", "--yes", "--policy-pack", str(REPO / "policies" / "crossguard"))


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


def synced(stack: str) -> Command:
    """Wait until Argo CD has applied the new digests and every workload is healthy."""
    return [
        "kubectl",
        "--namespace",
        "argocd",
        "wait",
        f"application/cnop-{stack}",
        "--for=jsonpath={.status.health.status}=Healthy",
        f"--timeout={SYNC_TIMEOUT}",
    ]


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


def images(stack: str, tag: str) -> None:
    """Build, push and pin every image of the stack."""
    outputs = json.loads(run(pulumi(stack, "stack", "output", "--json")))
    repositories: dict[str, str] = outputs["repositories"]
    registry = next(iter(repositories.values())).split("/", 1)[0]
    region = registry.split(".")[3]
    login = subprocess.run(
        ["aws", "ecr", "get-login-password", "--region", region],
        check=True,
        text=True,
        capture_output=True,
    ).stdout
    subprocess.run(
        ["docker", "login", "--username", "AWS", "--password-stdin", registry],
        input=login,
        check=True,
        text=True,
    )
    for image in IMAGES:
        metadata = REPO / "var" / "deploy" / f"{stack}-{image}.json"
        metadata.parent.mkdir(parents=True, exist_ok=True)
        for command in push(image, repositories[image], tag, metadata):
            run(command)
        digest = json.loads(metadata.read_text())["containerimage.digest"]
        run(record_digest(stack, image, digest))


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
        run(up(args.stack))
        images(args.stack, tag)
        run(up(args.stack))
        run(synced(args.stack))
        run(verify(args.stack))
    else:
        for command in destroy(args.stack):
            run(command)


if __name__ == "__main__":
    main()
