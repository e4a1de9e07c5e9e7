import torch

from engine.baselines.doodl import (DoodlSettings, doodl_optimize, edict_coefficients, edict_gradient,
                                    edict_inverse_step, edict_sample, edict_step)
from engine.ditto.optimize import control_losses, total_loss
from engine.job import SamplerSpec
from engine.models.builtin.model import load_builtin
from engine.models.builtin.schedule import builtin_schedule
from engine.sampling import sample


def test_edict_steps_invert_exactly(tiny_model, noise):
    x = noise(1.0, seed=5)
    y = x + 0.01 * noise(1.0, seed=6)
    conditioning = tiny_model.condition()
    coefficients, _ = edict_coefficients(tiny_model, 6)
    with torch.no_grad():
        a, b = x, y
        for c in coefficients:
            a, b = edict_step(tiny_model, a, b, c, conditioning, 0.93)
        for c in reversed(coefficients):
            a, b = edict_inverse_step(tiny_model, a, b, c, conditioning, 0.93)
    assert torch.allclose(a, x, atol=1e-4) and torch.allclose(b, y, atol=1e-4)


def test_edict_samples_like_ddim(tiny_model, noise):
    x_T, conditioning = noise(1.0, seed=7), tiny_model.condition()
    x0, y0 = edict_sample(tiny_model, x_T, conditioning, steps=8)
    with torch.no_grad():
        ddim = sample(tiny_model, x_T, conditioning, SamplerSpec("ddim", 8))
    assert (x0 - ddim).abs().mean() < 0.05 * ddim.abs().mean()
    assert (x0 - y0).abs().mean() < 0.1 * x0.abs().mean()


def test_edict_on_the_shipped_zero_terminal_snr_schedule_skips_the_pure_noise_step_and_stays_finite(noise):
    model = load_builtin(tiny=True)
    model.schedule = builtin_schedule()
    coefficients, timesteps = edict_coefficients(model, 20)
    assert int(model.make_scheduler("ddim", 20).timesteps[0]) == 999
    assert timesteps.tolist()[:2] == [949, 899] and len(coefficients) == 19
    x0, y0 = edict_sample(model, noise(1.0, seed=8), model.condition(), steps=20)
    assert torch.isfinite(x0).all() and torch.isfinite(y0).all()
    assert x0.abs().max() < 100


def test_invertible_backward_equals_autograd_through_the_whole_chain(tiny_model, noise, intensity_control):
    x_T, conditioning = noise(1.0, seed=8), tiny_model.condition()
    controls = [intensity_control(1.0)]
    _, _, _, gradient = edict_gradient(tiny_model, controls, x_T, conditioning, steps=4, mix=0.93)
    coefficients, _ = edict_coefficients(tiny_model, 4)
    leaf = x_T.clone().requires_grad_(True)
    x, y = leaf, leaf
    for c in coefficients:
        x, y = edict_step(tiny_model, x, y, c, conditioning, 0.93)
    loss = 0.5 * (total_loss(controls, control_losses(controls, tiny_model.decode_mel(x)))
                  + total_loss(controls, control_losses(controls, tiny_model.decode_mel(y))))
    expected, = torch.autograd.grad(loss.sum(), leaf)
    assert torch.allclose(gradient, expected, rtol=1e-3, atol=1e-6 * expected.abs().max().item())


def test_doodl_lowers_the_loss_and_keeps_the_latent_norm(tiny_model, noise, intensity_control):
    x_T, conditioning = noise(1.0, seed=9), tiny_model.condition()
    control = intensity_control(1.0)
    result = doodl_optimize(tiny_model, [control], x_T, conditioning,
                            DoodlSettings(sampler_steps=4, steps=6, clip=0.02))
    assert len(result.history) == 7 and result.steps_run == 6
    assert result.history[-1]["total"] < result.history[0]["total"]
    assert torch.allclose(result.x_T.norm(), x_T.norm(), rtol=1e-4)
    x0, _ = edict_sample(tiny_model, result.x_T, conditioning, steps=4)
    x_free, _ = edict_sample(tiny_model, x_T, conditioning, steps=4)
    with torch.no_grad():
        assert control.metric(tiny_model.decode_mel(x0)) < control.metric(tiny_model.decode_mel(x_free))
