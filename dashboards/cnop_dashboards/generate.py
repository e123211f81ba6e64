"""`python -m cnop_dashboards.generate`: write dashboards/generated/*.json (make generate)."""

from __future__ import annotations

from pathlib import Path

from grafana_foundation_sdk.builders.dashboard import Dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from cnop_catalogue import COMPONENTS
from cnop_dashboards import boards
from cnop_policies import slo

GENERATED = Path(__file__).resolve().parents[1] / "generated"
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


def main() -> None:
    """Write every dashboard."""
    GENERATED.mkdir(parents=True, exist_ok=True)
    for name, text in render().items():
        (GENERATED / name).write_text(text, encoding="utf-8")
        print(GENERATED / name)


if __name__ == "__main__":
    main()
