import pytest
import torch

from engine.baselines.freedom import FreedomSettings, freedom_sample
from engine.baselines.schedule import BaselineError
from engine.job import SamplerSpec
from engine.sampling import sample

SETTINGS = SamplerSpec("ddim", 6)


def test_zero_strength_is_plain_ddim(tiny_model, noise, intensity_control):
    x_T, conditioning = noise(1.0), tiny_model.condition()
    control = intensity_control(1.0)
    with torch.no_grad():
        expected = sample(tiny_model, x_T, conditioning, SETTINGS)
    got = freedom_sample(tiny_model, [control], x_T, conditioning, SETTINGS, FreedomSettings(strength=0.0))
    assert torch.allclose(got, expected, atol=1e-5)


def test_guidance_brings_the_intensity_closer_to_the_target(tiny_model, noise, intensity_control):
    x_T, conditioning = noise(1.0, seed=4, batch=2), tiny_model.condition(batch=2)
    control = intensity_control(1.0)
    with torch.no_grad():
        free = control.metric(tiny_model.decode_mel(sample(tiny_model, x_T, conditioning, SETTINGS)))
    guided = freedom_sample(tiny_model, [control], x_T, conditioning, SETTINGS,
                            FreedomSettings(strength=0.5))
    assert guided.shape == x_T.shape and not guided.requires_grad
    with torch.no_grad():
        assert (control.metric(tiny_model.decode_mel(guided)) < free).all()


def test_time_travel_repeats_early_steps_with_seeded_noise(tiny_model, noise, intensity_control):
    x_T, conditioning = noise(1.0, seed=4), tiny_model.condition()
    control = intensity_control(1.0)
    travel = FreedomSettings(strength=0.5, time_travel=2, noise_seed=3)
    once = freedom_sample(tiny_model, [control], x_T, conditioning, SETTINGS, travel)
    again = freedom_sample(tiny_model, [control], x_T, conditioning, SETTINGS, travel)
    plain = freedom_sample(tiny_model, [control], x_T, conditioning, SETTINGS, FreedomSettings(strength=0.5))
    assert torch.equal(once, again)
    assert not torch.allclose(once, plain, atol=1e-3)


def test_freedom_refuses_stochastic_or_other_samplers(tiny_model, noise, intensity_control):
    with pytest.raises(BaselineError, match="DDIM"):
        freedom_sample(tiny_model, [intensity_control(1.0)], noise(1.0), tiny_model.condition(),
                       SamplerSpec("dpmsolver++", 4))


def test_a_guidance_step_that_blows_the_sample_up_is_reported_as_diverged(tiny_model, noise, intensity_control):
    from engine.baselines.schedule import BaselineDivergedError

    x_T, conditioning = noise(1.0), tiny_model.condition()
    with pytest.raises(BaselineDivergedError, match="no longer finite"):
        freedom_sample(tiny_model, [intensity_control(1.0)], x_T, conditioning, SETTINGS,
                       FreedomSettings(strength=1e300))
