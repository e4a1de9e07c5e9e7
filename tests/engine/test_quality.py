"""Quality presets: what a job optimizes through, how long, and what renders it."""

import pytest

from engine.job import Job
from engine.quality import PRESETS, plan_for

INTENSITY = {"type": "intensity", "times": [0, 1.0], "db": [-40, -15]}


def test_final_quality_optimizes_through_its_own_render_sampler_when_the_job_names_none():
    plan = plan_for(Job.from_dict({"controls": [INTENSITY]}))
    preset = PRESETS["final"]
    assert not plan.surrogate
    assert (plan.render_with.name, plan.render_with.steps) == (preset.render.name, preset.render.steps)
    assert (plan.optimize_with.name, plan.optimize_with.steps) == (preset.render.name, preset.render.steps)
    assert (plan.optimizer_steps, plan.lr, plan.extra_steps, plan.time_budget_s) == (
        preset.optimizer_steps, preset.lr, preset.extra_steps, preset.time_budget_s)
    assert plan.render_with.checkpointing is False and plan.optimize_with.checkpointing is True


def test_a_job_that_names_its_render_sampler_keeps_it():
    plan = plan_for(Job.from_dict({"controls": [INTENSITY], "sampler": {"name": "ddim", "steps": 20}}))
    assert (plan.render_with.name, plan.render_with.steps) == ("ddim", 20)
    assert (plan.optimize_with.name, plan.optimize_with.steps) == ("ddim", 20)


def test_a_job_that_sets_its_own_budget_gets_no_extension_and_no_time_limit():
    plan = plan_for(Job.from_dict({"controls": [INTENSITY], "optimizer": {"steps": 12}}))
    assert (plan.optimizer_steps, plan.extra_steps, plan.time_budget_s) == (12, 0, None)


def test_a_job_that_sets_its_own_lr_gets_exactly_that_lr_far_from_tolerance_too():
    preset_lr = plan_for(Job.from_dict({"controls": [INTENSITY]}))
    own_lr = plan_for(Job.from_dict({"controls": [INTENSITY], "optimizer": {"lr": 0.05}}))
    assert preset_lr.max_lr_boost == PRESETS["final"].max_lr_boost > 1.0
    assert (own_lr.lr, own_lr.max_lr_boost) == (0.05, 1.0)


def test_draft_renders_with_its_own_sampler_and_a_smaller_budget():
    plan = plan_for(Job.from_dict({"quality": "draft", "controls": [INTENSITY]}))
    assert plan.render_with.steps == PRESETS["draft"].render.steps < PRESETS["final"].render.steps
    assert plan.optimizer_steps == PRESETS["draft"].optimizer_steps < PRESETS["final"].optimizer_steps
    assert plan.optimize_with.steps <= plan.render_with.steps


def test_optimize_through_render_is_the_papers_full_ditto():
    job = Job.from_dict({"controls": [INTENSITY], "optimize_through": "render", "sampler": {"name": "ddim", "steps": 20},
                         "optimizer": {"steps": 70, "lr": 5e-3}})
    plan = plan_for(job)
    assert not plan.surrogate
    assert (plan.optimize_with.steps, plan.render_with.steps, plan.optimizer_steps, plan.lr) == (20, 20, 70, 5e-3)


def test_an_explicit_chain_wins_over_the_preset():
    job = Job.from_dict({"controls": [INTENSITY], "optimize_through": {"name": "dpmsolver++", "steps": 3}})
    plan = plan_for(job)
    assert (plan.optimize_with.name, plan.optimize_with.steps) == ("dpmsolver++", 3)


def test_a_preset_never_optimizes_through_more_steps_than_it_renders():
    short = Job.from_dict({"controls": [INTENSITY], "sampler": {"steps": 2},
                           "optimize_through": {"name": "dpmsolver++", "steps": 4}})
    assert plan_for(short).optimize_with.steps == 4  # an explicit chain is the job's own choice
    plan = plan_for(Job.from_dict({"controls": [INTENSITY], "sampler": {"steps": 2}}))
    assert plan.optimize_with.steps == 2 and not plan.surrogate


@pytest.mark.parametrize("quality", sorted(PRESETS))
def test_every_preset_names_a_chain_for_every_control_type(quality):
    from engine.job import CONTROL_TYPES

    assert set(PRESETS[quality].chain) == set(CONTROL_TYPES)
