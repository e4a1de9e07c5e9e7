"""Quality presets: what a job optimizes through, how long, and what renders it."""

import json

import pytest

from engine.job import Job
from engine.plan import Plan
from engine.quality import PRESETS, plan_for

INTENSITY = {"type": "intensity", "times": [0, 1.0], "db": [-40, -15]}


def test_final_quality_optimizes_through_its_own_render_sampler_when_the_job_names_none():
    plan = plan_for(Job.from_dict({"controls": [INTENSITY]}))
    preset = PRESETS["final"]
    assert not plan.surrogate
    assert (plan.rendered_with.name, plan.rendered_with.steps) == (preset.rendered_with.name, preset.rendered_with.steps)
    assert (plan.optimized_through.name, plan.optimized_through.steps) == (preset.rendered_with.name, preset.rendered_with.steps)
    assert (plan.optimizer_steps, plan.lr, plan.extra_steps, plan.time_budget_s) == (
        preset.optimizer_steps, preset.lr, preset.extra_steps, preset.time_budget_s)
    assert plan.checkpointing is True and plan.noise_seed == 0


def test_a_job_that_names_its_render_sampler_keeps_it():
    plan = plan_for(Job.from_dict({"controls": [INTENSITY], "sampler": {"name": "ddim", "steps": 20}}))
    assert (plan.rendered_with.name, plan.rendered_with.steps) == ("ddim", 20)
    assert (plan.optimized_through.name, plan.optimized_through.steps) == ("ddim", 20)


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
    assert plan.rendered_with.steps == PRESETS["draft"].rendered_with.steps < PRESETS["final"].rendered_with.steps
    assert plan.optimizer_steps == PRESETS["draft"].optimizer_steps < PRESETS["final"].optimizer_steps
    assert plan.optimized_through.steps <= plan.rendered_with.steps


def test_optimize_through_render_is_the_papers_full_ditto():
    job = Job.from_dict({"controls": [INTENSITY], "optimize_through": "render", "sampler": {"name": "ddim", "steps": 20},
                         "optimizer": {"steps": 70, "lr": 5e-3}})
    plan = plan_for(job)
    assert not plan.surrogate
    assert (plan.optimized_through.steps, plan.rendered_with.steps, plan.optimizer_steps, plan.lr) == (20, 20, 70, 5e-3)


def test_an_explicit_chain_wins_over_the_preset():
    job = Job.from_dict({"controls": [INTENSITY], "optimize_through": {"name": "dpmsolver++", "steps": 3}})
    plan = plan_for(job)
    assert (plan.optimized_through.name, plan.optimized_through.steps) == ("dpmsolver++", 3)


def test_a_preset_never_optimizes_through_more_steps_than_it_renders():
    short = Job.from_dict({"controls": [INTENSITY], "sampler": {"steps": 2},
                           "optimize_through": {"name": "dpmsolver++", "steps": 4}})
    assert plan_for(short).optimized_through.steps == 4  # an explicit chain is the job's own choice
    plan = plan_for(Job.from_dict({"controls": [INTENSITY], "sampler": {"steps": 2}}))
    assert plan.optimized_through.steps == 2 and not plan.surrogate


@pytest.mark.parametrize("quality", sorted(PRESETS))
def test_a_preset_is_the_plan_of_a_job_that_sets_only_its_quality(quality):
    assert plan_for(Job.from_dict({"quality": quality})) == PRESETS[quality]


def test_the_plan_saved_in_a_sidecar_reads_back_as_the_same_plan():
    job = Job.from_dict({"controls": [INTENSITY], "seed": 7, "optimize_through": {"name": "ddim", "steps": 3},
                         "optimizer": {"memory_budget_mib": 512}})
    plan = plan_for(job)
    saved = json.loads(json.dumps(plan.to_dict()))
    assert Plan.from_dict(saved) == plan and saved["noise_seed"] == 7
    assert saved["optimized_through"] == {"name": "ddim", "steps": 3, "eta": 0.0}
