"""Gradient checkpointing changes memory, never the gradient with respect to x_T."""

import pytest
import torch

from engine.job import SamplerSpec
from engine.models.builtin.model import load_builtin
from engine.sampling import sample


def _gradient(model, name, checkpointing, dtype):
    cond = model.condition(tags=["piano"], guidance_scale=3.0, batch=2)
    x_T = torch.randn((2, *model.latent_shape(0.5)), generator=torch.Generator().manual_seed(1), dtype=dtype)
    x_T.requires_grad_(True)
    out = model.decode_mel(sample(model, x_T, cond, SamplerSpec(name=name, steps=6), noise_seed=3,
                                  checkpointing=checkpointing))
    (out.sin().sum() + out.pow(2).mean()).backward()
    return x_T.grad


@pytest.mark.parametrize("name", ["ddim", "ddpm", "dpmsolver++"])
@pytest.mark.parametrize("dtype, tolerance", [(torch.float64, 1e-5), (torch.float32, 1e-4)])
def test_gradient_with_checkpointing_equals_gradient_without(name, dtype, tolerance):
    model = load_builtin(tiny=True).to("cpu", dtype)
    with_ckpt = _gradient(model, name, True, dtype)
    without = _gradient(model, name, False, dtype)
    assert without.abs().sum() > 0, "the gradient must reach x_T"
    relative = (with_ckpt - without).norm() / without.norm()
    assert relative <= tolerance


def test_partial_checkpointing_budget_gives_the_same_gradient(tiny_model):
    full = _gradient(tiny_model, "ddim", True, torch.float32)
    partial = _gradient(tiny_model, "ddim", 3, torch.float32)
    assert ((full - partial).norm() / full.norm()) <= 1e-4


def test_ddpm_noise_is_fixed_by_the_seed_and_changes_with_it(tiny_model):
    cond = tiny_model.condition(batch=1)
    x_T = torch.randn((1, *tiny_model.latent_shape(0.5)), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        a = sample(tiny_model, x_T, cond, SamplerSpec("ddpm", 5), noise_seed=7)
        b = sample(tiny_model, x_T, cond, SamplerSpec("ddpm", 5), noise_seed=7)
        c = sample(tiny_model, x_T, cond, SamplerSpec("ddpm", 5), noise_seed=8)
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


def test_schedulers_never_clip_samples():
    from engine.sampling import build_scheduler

    schedule = {"num_train_timesteps": 1000, "beta_schedule": "squaredcos_cap_v2", "prediction_type": "v_prediction"}
    for name in ("ddim", "ddpm"):
        assert build_scheduler(name, schedule, 10).config.clip_sample is False
    assert build_scheduler("dpmsolver++", schedule, 10).config.thresholding is False


def _saved_bytes(model, steps, checkpointing):
    """Bytes of distinct tensors autograd keeps for backward through `steps` DDIM steps."""
    seen, total = set(), [0]

    def pack(tensor):
        key = (tensor.data_ptr(), tensor.numel())
        if key not in seen:
            seen.add(key)
            total[0] += tensor.numel() * tensor.element_size()
        return tensor

    cond = model.condition(tags=["piano"], guidance_scale=2.0, batch=1)
    x_T = torch.randn((1, *model.latent_shape(1.0)), requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model.decode_mel(sample(model, x_T, cond, SamplerSpec("ddim", steps), checkpointing=checkpointing))
    return total[0], x_T.numel() * x_T.element_size()


def test_checkpointing_keeps_about_one_latent_per_sampling_step(tiny_model):
    saved_10, latent = _saved_bytes(tiny_model, 10, True)
    saved_40, _ = _saved_bytes(tiny_model, 40, True)
    assert (saved_40 - saved_10) / 30 <= 1.5 * latent
    unsaved_10, _ = _saved_bytes(tiny_model, 10, False)
    assert unsaved_10 > 10 * saved_10
