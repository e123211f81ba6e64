"""Load plans: smoke, steady, step, spike, stress and soak, each a fixed list of stages.

A plan speaks in arrival rates (requests per second); Locust speaks in users.
Every virtual user aims at `USER_RATE` requests per second (journeys.py sets
their think time for it), so a rate becomes a user count. What the platform
really served is measured, never assumed: the knee is reported in measured
requests per second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# Requests per second one virtual user aims at (its tasks make ~1.5 requests
# each, at 2/3 of a task per second).
USER_RATE = 1.0
MAX_SOAK_SECONDS = 4 * 3600
SHAPE_NAMES = ("smoke", "steady", "step", "spike", "stress", "soak")


@dataclass(frozen=True, slots=True)
class Stage:
    """Hold `users` for `seconds`; `measured` stages count towards the verdict."""

    name: str
    seconds: float
    users: int
    measured: bool = True


@dataclass(frozen=True, slots=True)
class ShapeSettings:
    """The numbers a plan is made of (from the stack's config and the command line)."""

    steady_rps: float = 10.0
    step_rps: float = 10.0
    step_seconds: float = 20.0
    max_steps: int = 10
    spike_factor: float = 4.0
    stress_factor: float = 2.0
    stress_seconds: float = 30.0
    recovery_seconds: float = 60.0
    soak_seconds: float = 600.0
    smoke_seconds: float = 20.0

    def __post_init__(self) -> None:
        if self.soak_seconds > MAX_SOAK_SECONDS:
            raise ValueError(f"a soak is bounded: at most {MAX_SOAK_SECONDS} s")
        if min(self.steady_rps, self.step_rps, self.step_seconds, self.max_steps) <= 0:
            raise ValueError("rates, step length and step count must be positive")


def users_for(rate: float) -> int:
    """Virtual users that together aim at `rate` requests per second."""
    return max(1, math.ceil(rate / USER_RATE))


def plan(shape: str, settings: ShapeSettings, knee_rps: float | None = None) -> list[Stage]:
    """The stages of a shape. `knee_rps` (stress): the knee found earlier, else 2× steady."""
    steady = users_for(settings.steady_rps)
    if shape == "smoke":
        # Enough users that every journey runs (Locust splits them by weight).
        return [Stage("smoke", settings.smoke_seconds, 10)]
    if shape == "steady":
        return [Stage("warm-up", 10, steady, measured=False), Stage("steady", 60, steady)]
    if shape == "step":
        return [
            Stage(f"step-{n}", settings.step_seconds, users_for(n * settings.step_rps))
            for n in range(1, settings.max_steps + 1)
        ]
    if shape == "spike":
        return [
            Stage("baseline", 20, steady),
            Stage("spike", 15, users_for(settings.steady_rps * settings.spike_factor)),
            Stage("after-spike", 30, steady),
        ]
    if shape == "stress":
        past_knee = (knee_rps or settings.steady_rps * 2) * settings.stress_factor
        return [
            Stage("baseline", 20, steady),
            Stage("stress", settings.stress_seconds, users_for(past_knee)),
            Stage("recovery", settings.recovery_seconds, steady),
        ]
    if shape == "soak":
        return [
            Stage("warm-up", 10, steady, measured=False),
            Stage("soak", settings.soak_seconds, steady),
        ]
    raise ValueError(f"unknown shape {shape!r}; one of {', '.join(SHAPE_NAMES)}")


def stage_at(stages: list[Stage], elapsed: float) -> tuple[int, Stage] | None:
    """The stage running `elapsed` seconds into the plan (index and stage), None after the end."""
    start = 0.0
    for index, stage in enumerate(stages):
        if elapsed < start + stage.seconds:
            return index, stage
        start += stage.seconds
    return None


# A stage's new users sign up first (two Argon2 hashes and several writes each):
# that burst is not the stage's steady state, so its first part is not measured.
SETTLE_FRACTION = 0.4
SETTLE_MIN_SECONDS = 3.0
SETTLE_MAX_SECONDS = 10.0


def settle_seconds(length: float) -> float:
    """How much of a stage of `length` seconds to leave unmeasured at its start."""
    settle = min(max(length * SETTLE_FRACTION, SETTLE_MIN_SECONDS), SETTLE_MAX_SECONDS)
    return min(settle, length / 2)


class PhaseLog:
    """Follows a plan through time and notes when each stage really began and ended."""

    def __init__(self, stages: list[Stage]) -> None:
        self.stages = stages
        self.phases: list[dict[str, Any]] = []

    def update(self, elapsed: float, now: float) -> tuple[int, float] | None:
        """Users and spawn rate `elapsed` seconds in (None: the plan is over)."""
        current = stage_at(self.stages, elapsed)
        last = self.phases[-1] if self.phases else None
        if (
            last is not None
            and last["end"] is None
            and (current is None or last["index"] != current[0])
        ):
            last["end"] = now
        if current is None:
            return None
        index, stage = current
        if last is None or last["index"] != index:
            self.phases.append(
                {
                    "index": index,
                    "name": stage.name,
                    "users": stage.users,
                    "measured": stage.measured,
                    "start": now,
                    "end": None,
                }
            )
        # Users arrive within about two seconds of a stage's start.
        return stage.users, max(1.0, stage.users / 2)


def settings_from_options(options: Any) -> ShapeSettings:
    """ShapeSettings from Locust's parsed options (the cnop_* arguments)."""
    if options is None:
        return ShapeSettings()
    values = {}
    for name in ShapeSettings.__dataclass_fields__:
        value = getattr(options, f"cnop_{name}", None)
        if value is not None:
            values[name] = value
    return ShapeSettings(**values)
