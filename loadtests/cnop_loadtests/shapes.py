"""Locust load shapes: each runs one plan of plans.py and notes its phases for the analysis.

Only Locust's processes import this module (Locust patches the standard
library with gevent on import); the analysis and its tests use plans.py.
"""

from __future__ import annotations

import time
from typing import Any

from locust import LoadTestShape

from cnop_loadtests.gate import Budget
from cnop_loadtests.plans import PhaseLog, plan, settings_from_options, settle_seconds
from cnop_loadtests.stats import Window, difference
from cnop_policies import slo


class PlannedShape(LoadTestShape):
    """Runs the plan named by `shape`, built from the run's --cnop-* options."""

    shape = "smoke"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.log: PhaseLog | None = None

    @property
    def phases(self) -> list[dict[str, Any]]:
        """Stages as they really ran (start and end in epoch seconds)."""
        return self.log.phases if self.log else []

    def tick(self) -> tuple[int, float] | None:
        """Users and spawn rate for now; None ends the run."""
        if self.log is None:
            options = self.runner.environment.parsed_options if self.runner else None
            knee = getattr(options, "cnop_knee_rps", None) or None
            self.log = PhaseLog(plan(self.shape, settings_from_options(options), knee_rps=knee))
        return self.log.update(self.get_run_time(), time.time())


class SmokeShape(PlannedShape):
    """Two users for a short while: does every journey work at all?"""

    shape = "smoke"


class SteadyShape(PlannedShape):
    """The stack's steady rate for a minute."""

    shape = "steady"


class StepShape(PlannedShape):
    """Rising steps: the knee finder's input. Stops after the first step that broke the SLOs.

    Locust's own running totals (the master's, workers included) judge a step
    as it ends; the analysis afterwards measures every step exactly.
    """

    shape = "step"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget = Budget.from_slos(slo.load())
        self.baseline: tuple[int, Window] | None = None  # (phase index, totals at its settle)

    def tick(self) -> tuple[int, float] | None:
        """As the plan says, until a step has broken the SLOs."""
        users = super().tick()
        if users is None or self.log is None:
            return users
        phase = self.log.phases[-1]
        if self.baseline and self.baseline[0] != phase["index"]:
            step = difference(self.totals(), self.baseline[1])
            if not self.budget.holds(step):
                # Past the knee: more load only measures the overload. The stage
                # that was about to begin never ran.
                self.log.phases.pop()
                return None
            self.baseline = None
        settled = time.time() - phase["start"] >= settle_seconds(self.stage_length(phase["index"]))
        if self.baseline is None and settled:
            self.baseline = (phase["index"], self.totals())
        return users

    def stage_length(self, index: int) -> float:
        """The planned length of a stage."""
        return self.log.stages[index].seconds if self.log else 0.0

    def totals(self) -> Window:
        """Locust's running totals as a Window (failures count as server errors here)."""
        total = self.runner.stats.total if self.runner else None
        window = Window()
        if total is None:
            return window
        window.requests = total.num_requests
        window.failures = window.server_errors = total.num_failures
        window.times.update(total.response_times)
        return window


class SpikeShape(PlannedShape):
    """A burst several times the steady rate, then back."""

    shape = "spike"


class StressShape(PlannedShape):
    """Past the knee for a bounded time, then the baseline again to watch recovery."""

    shape = "stress"


class SoakShape(PlannedShape):
    """The steady rate for a long, bounded time."""

    shape = "soak"


SHAPES: dict[str, type[PlannedShape]] = {
    cls.shape: cls
    for cls in (SmokeShape, SteadyShape, StepShape, SpikeShape, StressShape, SoakShape)
}
