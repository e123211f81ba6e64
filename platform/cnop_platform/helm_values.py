"""`python -m cnop_platform.helm_values <stack>`: every pinned chart with the values the
program gives it, as the commands that check a pin before a real `pulumi up`.

Prints, per Helm release the stack declares, a `helm template` command for the
pinned chart and version, reading our values from a file written beside it
(var/helm-values/<stack>/<chart>.yaml). Values only a deploy knows (the cluster's
name, the VPC, Loki's bucket) come out as the render's stand-ins: a template run
proves the chart accepts the values' shape, not the account's values.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from cnop_platform.render import REPO, plain_values, run


def releases(stack: str) -> list[dict[str, Any]]:
    """The Helm releases a stack declares: chart, version, repository, values."""
    return [
        {
            "chart": inputs["chart"],
            "version": inputs["version"],
            "repo": inputs["repositoryOpts"]["repo"],
            "namespace": inputs["namespace"],
            "values": plain_values(inputs.get("values", {})),
        }
        for typ, _name, inputs in run(stack, apps=False).resources
        if typ == "kubernetes:helm.sh/v3:Release"
    ]


def main(argv: list[str]) -> int:
    """Write each release's values and print the `helm template` that checks its pin."""
    stack = argv[0] if argv else "prod"
    folder = REPO / "var" / "helm-values" / stack
    folder.mkdir(parents=True, exist_ok=True)
    for found in releases(stack):
        path = folder / f"{found['chart']}.yaml"
        path.write_text(yaml.safe_dump(found["values"], sort_keys=True))
        print(
            f"helm template {found['chart']} {found['chart']} --repo {found['repo']}"
            f" --version {found['version']} --namespace {found['namespace']}"
            f" --values {Path(path).relative_to(REPO)} > /dev/null"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
