import pytest
import torch

from engine import job as jobs
from engine.baselines.masking import known_region
from engine.baselines.multidiffusion import (CanvasPlan, Window, canvas_noise, loop_plan, multidiffusion_sample,
                                             outpaint_plan, plan_for)
from engine.baselines.schedule import BaselineError
from engine.controls.base import masked_mse
from engine.job import SamplerSpec
from engine.sampling import sample

SETTINGS = SamplerSpec("ddim", 4)


def test_a_single_generated_window_over_the_whole_canvas_is_plain_ddim(tiny_model, noise):
    x_T = noise(1.0, seed=1)
    frames = x_T.shape[-1]
    plan = CanvasPlan(frames, (Window(0, frames, True),), False, torch.zeros(1, 80, frames), 0)
    conditioning = tiny_model.condition()
    with torch.no_grad():
        expected = sample(tiny_model, x_T, conditioning, SETTINGS)
        got = multidiffusion_sample(tiny_model, x_T, conditioning, plan, SETTINGS)
    assert torch.allclose(got, expected, atol=1e-5)


def test_loop_canvas_wraps_the_output_back_into_the_reference_start():
    reference = torch.arange(40.0).view(1, 1, 40)
    plan = loop_plan(reference, overlap=5, output_frames=24)
    assert plan.frames == 40 + 24 - 10 and plan.circular
    index = plan.output_indices()
    assert index[:5].tolist() == [35, 36, 37, 38, 39]
    assert index[-5:].tolist() == [0, 1, 2, 3, 4]


def test_outpaint_canvas_places_the_output_after_the_reference():
    plan = outpaint_plan(torch.zeros(1, 1, 30), overlap=6, output_frames=20)
    assert plan.frames == 44
    assert plan.output_indices().tolist() == list(range(24, 44))
    with pytest.raises(BaselineError, match="overlap"):
        outpaint_plan(torch.zeros(1, 1, 30), overlap=0, output_frames=20)


@pytest.mark.parametrize("control", ["outpaint", "loop"])
def test_multidiffusion_pulls_the_overlap_towards_the_reference(tiny_model, reference_wav, noise, control):
    spec = jobs.OutpaintControl(reference_wav, 0.5) if control == "outpaint" else jobs.LoopControl(0.4, reference_wav)
    plan = plan_for(tiny_model, spec, 2.0)
    x_T, conditioning = noise(2.0, seed=2), tiny_model.condition()
    with torch.no_grad():
        canvas = multidiffusion_sample(tiny_model, canvas_noise(plan, x_T, 0), conditioning, plan, SETTINGS)
        free = sample(tiny_model, x_T, conditioning, SETTINGS)
    out = canvas[..., plan.output_indices()]
    assert out.shape == x_T.shape
    known = known_region(tiny_model, spec, 2.0)
    reference = tiny_model.decode_mel(known.latent)
    assert masked_mse(tiny_model.decode_mel(out), reference, known.mask) < 0.5 * masked_mse(
        tiny_model.decode_mel(free), reference, known.mask)
