"""`python -m cnop_dashboards.generate`: write dashboards/generated/*.json and their
catalogue, docs/dashboards.md (make generate)."""

from __future__ import annotations

import json
from pathlib import Path

from grafana_foundation_sdk.builders.dashboard import Dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from cnop_catalogue import COMPONENTS
from cnop_dashboards import boards, catalogue
from cnop_policies import slo

GENERATED = Path(__file__).resolve().parents[1] / "generated"
CATALOGUE = Path(__file__).resolve().parents[2] / "docs" / "dashboards.md"
# One RED dashboard per component of the catalogue: a new service gets one by being listed.
SERVICES = tuple(component.name for component in COMPONENTS)


def all_dashboards() -> dict[str, Dashboard]:
    """Every dashboard by file name."""
    dashboards = {
        "auth-overview": boards.auth_overview(),
        "gateway-auth-flow": boards.gateway_auth_flow(),
        "security": boards.security(),
        "slo-capacity": boards.slo_capacity(slo.load()),
    }
    for service in SERVICES:
        dashboards[f"red-{service}"] = boards.service_red(service)
    return dashboards


def render() -> dict[str, str]:
    """File name → JSON text; stable key order so the output is reproducible."""
    encoder = JSONEncoder(sort_keys=True, indent=2)
    return {
        f"{name}.json": encoder.encode(board.build()) + "\n"
        for name, board in all_dashboards().items()
    }


def render_catalogue(rendered: dict[str, str] | None = None) -> str:
    """docs/dashboards.md, from the same JSON as the files (render())."""
    files = rendered if rendered is not None else render()
    return catalogue.markdown({name: json.loads(text) for name, text in files.items()})


def main() -> None:
    """Write every dashboard and the catalogue."""
    GENERATED.mkdir(parents=True, exist_ok=True)
    rendered = render()
    for name, text in rendered.items():
        (GENERATED / name).write_text(text, encoding="utf-8")
        print(GENERATED / name)
    CATALOGUE.write_text(render_catalogue(rendered), encoding="utf-8")
    print(CATALOGUE)


if __name__ == "__main__":
    main()
