"""The level start: per-frame offsets on x_T found by the secant method bring the render's loudness to the curve
before Adam runs."""

import torch

from engine.api import initial_noise
from engine.audio.resample import mono_at
from engine.controls import build_controls
from engine.ditto import optimize
from engine.ditto.level_start import (
    LevelStartSettings,
    level_start,
    next_offset,
    secant_slopes,
    smooth_frames,
    with_offset,
)
from engine.ditto.optimize import BestRenders, render_check
from engine.job import Job, SamplerSpec
from engine.plan import Plan
from engine.quality import plan_for
from engine.sampling import sample

RENDER = SamplerSpec("dpmsolver++", 4)


def test_smoothing_keeps_a_constant_and_spreads_a_spike_over_its_window():
    constant = torch.full((2, 30), 3.0, dtype=torch.float64)
    assert torch.allclose(smooth_frames(constant, 9), constant)
    spike = torch.zeros(1, 30, dtype=torch.float64)
    spike[0, 15] = 9.0
    spread = smooth_frames(spike, 9)
    assert torch.allclose(spread[0, 11:20], torch.ones(9, dtype=torch.float64))
    assert float(spread[0, :11].abs().sum() + spread[0, 20:].abs().sum()) == 0.0


def test_slopes_are_measured_only_where_the_offset_moved_enough():
    settings = LevelStartSettings(smoothing_frames=1)
    previous = torch.full((1, 4), 500.0, dtype=torch.float64)
    moved = torch.tensor([[0.01, 0.0005, 0.01, 0.01]], dtype=torch.float64)
    change = torch.tensor([[8.0, 3.0, 100.0, -1.0]], dtype=torch.float64)
    slopes = secant_slopes(previous, moved, change, settings)
    # 800 measured; too small a move keeps 500; 10,000 and a negative slope are clamped to the range
    assert slopes.tolist() == [[800.0, 500.0, 2000.0, 150.0]]


def test_an_offset_step_is_limited_per_render_and_the_offset_stays_in_range():
    settings = LevelStartSettings(smoothing_frames=1)
    slope = torch.full((1, 3), 500.0, dtype=torch.float64)
    offset = torch.tensor([[0.0, 0.09, -0.07]], dtype=torch.float64)
    residual = torch.tensor([[5.0, 100.0, -100.0]], dtype=torch.float64)
    moved = next_offset(offset, residual, slope, settings)
    assert torch.allclose(moved, torch.tensor([[0.8 * 5 / 500, 0.1, -0.08]], dtype=torch.float64))


def test_the_offset_shifts_every_channel_of_its_frame():
    x = torch.zeros(2, 3, 4)
    offset = torch.tensor([[0.0, 1.0, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0]])
    shifted = with_offset(x, offset)
    assert torch.equal(shifted[0, 2], offset[0]) and torch.equal(shifted[1, 0], offset[1])


def _job(target_db: list[float]) -> Job:
    return Job.from_dict({"duration": 2.0, "model": "builtin-tiny", "seed": 5, "sampler": {"name": "dpmsolver++",
                          "steps": 4}, "controls": [{"type": "intensity", "times": [0.0, 2.0], "db": target_db,
                                                     "tolerance": 0.05}]})


def _plain_level_db(model, job: Job) -> float:
    x_T, _ = initial_noise(model, job, model.device)
    with torch.no_grad():
        audio = model.decode_audio(sample(model, x_T, model.condition(batch=1), RENDER))
    heard = mono_at(audio, model.info.sample_rate, model.mel.sample_rate)
    return float(10 * torch.log10(heard.double().pow(2).mean()))


def test_the_level_start_brings_the_render_closer_to_a_curve_above_the_plain_take(tiny_model):
    plain = _plain_level_db(tiny_model, _job([-20.0, -20.0]))
    job = _job([plain + 1.0, plain + 1.0])  # one dB above what the seeded noise makes, all along
    x_T, _ = initial_noise(tiny_model, job, tiny_model.device)
    controls = build_controls(job, tiny_model)
    conditioning = tiny_model.condition(batch=1)

    errors = []
    best = BestRenders(x_T)

    def render(x):
        check = render_check(tiny_model, controls, x, conditioning, RENDER)
        best.offer(x, check)
        errors.append(float(check.metrics["intensity"]))
        return check.heard

    level_start(x_T, controls[0], render, LevelStartSettings(renders=4))
    assert len(errors) == 4
    # the tiny random model's level moves little with the offset (about 13 dB per unit, so the slowest slope
    # allowed rules each step), yet every render is nearer the curve than the one before
    assert all(later < earlier for earlier, later in zip(errors, errors[1:], strict=False))
    assert errors[-1] < errors[0] - 0.25
    assert float(best.score[0]) == min(errors) / 0.05
    assert float((best.x - x_T).mean()) > 0  # louder asked: the frames' means went up
    again = render_check(tiny_model, controls, best.x, conditioning, RENDER)
    assert abs(float(again.metrics["intensity"]) - min(errors)) < 1e-6


def test_optimize_starts_adam_from_the_level_start_and_records_its_renders(tiny_model):
    plain = _plain_level_db(tiny_model, _job([-20.0, -20.0]))
    job = _job([plain + 1.0, plain + 1.0])
    x_T, _ = initial_noise(tiny_model, job, tiny_model.device)
    controls = build_controls(job, tiny_model)
    plan = Plan(optimized_through=RENDER, rendered_with=RENDER, optimizer_steps=2, lr=0.01, early_stop=False,
                level_start_renders=3)
    result = optimize(tiny_model, controls, x_T, tiny_model.condition(batch=1), plan)
    level_renders = [check for check in result.checks if "level_render" in check]
    assert [check["level_render"] for check in level_renders] == [1, 2, 3]
    adam_checks = [check for check in result.checks if "level_render" not in check]
    assert adam_checks[0]["step"] == 0
    assert adam_checks[0]["intensity"] <= min(check["intensity"] for check in level_renders) + 1e-6
    assert result.steps_run == 2


def test_a_preset_job_gets_a_level_start_and_a_job_with_its_own_steps_does_not():
    assert plan_for(Job.from_dict({"duration": 2.0})).level_start_renders > 0
    assert plan_for(Job.from_dict({"duration": 2.0, "optimizer": {"steps": 5}})).level_start_renders == 0
