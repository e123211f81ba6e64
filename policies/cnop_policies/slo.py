"""The SLO definition (policies/slo.toml), read and checked once for every consumer."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from cnop_common.metrics import LATENCY_BUCKETS

SLO_FILE = Path(__file__).resolve().parents[1] / "slo.toml"


@dataclass(frozen=True, slots=True)
class Objective:
    """One SLO: the fraction of good events over a rolling window."""

    name: str
    description: str
    objective: float
    window_days: int

    @property
    def error_budget(self) -> float:
        """The fraction of events allowed to be bad."""
        return round(1.0 - self.objective, 10)


@dataclass(frozen=True, slots=True)
class Slos:
    """The gateway's availability and latency SLOs."""

    availability: Objective
    latency: Objective
    latency_threshold_seconds: float


def load(path: Path = SLO_FILE) -> Slos:
    """Read slo.toml; refuse objectives that cannot be measured exactly."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    objectives = {}
    for name in ("availability", "latency"):
        entry = raw[name]
        objective = float(entry["objective"])
        if not 0.9 <= objective < 1.0:
            raise ValueError(f"{name} objective {objective} must be in [0.9, 1)")
        objectives[name] = Objective(
            name, entry["description"], objective, int(entry["window_days"])
        )
    threshold = float(raw["latency"]["threshold_seconds"])
    # Latency SLO thresholds must be histogram bucket boundaries to be exact.
    if threshold not in LATENCY_BUCKETS:
        raise ValueError(f"latency threshold {threshold} is not a histogram bucket boundary")
    return Slos(objectives["availability"], objectives["latency"], threshold)
