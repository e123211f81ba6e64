"""Load shapes: each plan's stages, and the Locust shape that runs a plan."""

import pytest

from cnop_loadtests.plans import (
    MAX_SOAK_SECONDS,
    SHAPE_NAMES,
    PhaseLog,
    ShapeSettings,
    plan,
    stage_at,
    users_for,
)

pytestmark = pytest.mark.unit

SETTINGS = ShapeSettings(steady_rps=10, step_rps=15, step_seconds=20, max_steps=4)


def test_every_shape_has_a_plan():
    for name in SHAPE_NAMES:
        assert plan(name, SETTINGS), name
    with pytest.raises(ValueError, match="unknown shape"):
        plan("tsunami", SETTINGS)


def test_steady_holds_the_stack_rate_after_an_unmeasured_warm_up():
    warm, steady = plan("steady", SETTINGS)
    assert not warm.measured
    assert steady.measured
    assert steady.users == users_for(10) == 10


def test_steps_rise_by_the_step_rate():
    stages = plan("step", SETTINGS)
    assert [s.users for s in stages] == [15, 30, 45, 60]
    assert all(s.seconds == 20 for s in stages)


def test_a_spike_is_several_times_the_steady_rate_then_back():
    baseline, spike, after = plan("spike", SETTINGS)
    assert spike.users == 4 * baseline.users
    assert after.users == baseline.users


def test_stress_goes_past_the_knee_then_returns_to_the_baseline():
    baseline, stress, recovery = plan("stress", SETTINGS, knee_rps=40)
    assert stress.users == users_for(80)
    assert recovery.users == baseline.users


def test_a_soak_is_bounded():
    assert plan("soak", ShapeSettings(soak_seconds=3600))[1].seconds == 3600
    with pytest.raises(ValueError, match="bounded"):
        ShapeSettings(soak_seconds=MAX_SOAK_SECONDS + 1)


def test_stage_at_walks_the_plan_and_ends():
    stages = plan("step", SETTINGS)
    assert stage_at(stages, 0) == (0, stages[0])
    assert stage_at(stages, 39.9) == (1, stages[1])
    assert stage_at(stages, 80) is None


def test_the_phase_log_follows_the_plan_and_notes_real_times():
    log = PhaseLog(plan("step", SETTINGS))
    ticks = [log.update(elapsed, 1000 + elapsed) for elapsed in (0, 10, 20, 79, 80)]
    assert ticks[:4] == [(15, 7.5), (15, 7.5), (30, 15.0), (60, 30.0)]
    assert ticks[4] is None
    # A tick can skip a stage (step-3 never ticked): only stages that ran are noted.
    assert [(p["name"], p["start"], p["end"]) for p in log.phases] == [
        ("step-1", 1000, 1020),
        ("step-2", 1020, 1079),
        ("step-4", 1079, 1080),
    ]
