"""Quality presets: what a job optimizes through, how long, and what renders it."""

import pytest

from engine.job import Job
from engine.quality import PRESETS, plan_for

INTENSITY = {"type": "intensity", "times": [0, 1.0], "db": [-40, -15]}


def test_final_quality_optimizes_through_a_short_chain_and_renders_with_the_jobs_sampler():
    plan = plan_for(Job.from_dict({"controls": [INTENSITY]}))
    preset = PRESETS["final"]
    assert plan.surrogate
    assert (plan.optimize_with.name, plan.optimize_with.steps) == (preset.chain["intensity"].name,
                                                                   preset.chain["intensity"].steps)
    assert plan.optimize_with.steps < plan.render_with.steps
    assert (plan.render_with.name, plan.render_with.steps) == ("ddim", 20)
    assert (plan.optimizer_steps, plan.lr) == (preset.optimizer_steps, preset.lr)
    assert plan.render_with.checkpointing is False and plan.optimize_with.checkpointing is True


def test_draft_caps_the_render_steps_and_the_optimizer_budget():
    plan = plan_for(Job.from_dict({"quality": "draft", "controls": [INTENSITY], "sampler": {"steps": 50}}))
    assert plan.render_with.steps == PRESETS["draft"].render_steps
    assert plan.optimizer_steps == PRESETS["draft"].optimizer_steps
    assert plan.optimize_with.steps <= plan.render_with.steps


def test_optimize_through_render_is_the_papers_full_ditto():
    job = Job.from_dict({"controls": [INTENSITY], "optimize_through": "render", "optimizer": {"steps": 70, "lr": 5e-3}})
    plan = plan_for(job)
    assert not plan.surrogate
    assert (plan.optimize_with.steps, plan.render_with.steps, plan.optimizer_steps, plan.lr) == (20, 20, 70, 5e-3)


def test_an_explicit_chain_wins_over_the_preset():
    job = Job.from_dict({"controls": [INTENSITY], "optimize_through": {"name": "dpmsolver++", "steps": 3}})
    plan = plan_for(job)
    assert (plan.optimize_with.name, plan.optimize_with.steps) == ("dpmsolver++", 3)


def test_a_preset_never_optimizes_through_more_steps_than_it_renders():
    plan = plan_for(Job.from_dict({"controls": [INTENSITY], "sampler": {"steps": 2}}))
    assert plan.optimize_with.steps == 2 and not plan.surrogate
    chain_steps = PRESETS["final"].chain["intensity"].steps
    same = plan_for(Job.from_dict({"controls": [INTENSITY], "sampler": {"steps": chain_steps}}))
    assert not same.surrogate  # a chain as long as the render saves nothing: optimize through the render


@pytest.mark.parametrize("quality", sorted(PRESETS))
def test_every_preset_names_a_chain_for_every_control_type(quality):
    from engine.job import CONTROL_TYPES

    assert set(PRESETS[quality].chain) == set(CONTROL_TYPES)
