import dataclasses

import torch

from engine import job as jobs
from engine.controls.anchors import known_region
from engine.job import SamplerSpec
from engine.sampling import sample

SETTINGS = SamplerSpec("dpmsolver++", 4)


def test_anchored_frames_end_on_the_reference_exactly(tiny_model, reference_wav, noise):
    anchor = known_region(tiny_model, jobs.InpaintControl(reference_wav, 0.5, 1.0), 2.0)
    with torch.no_grad():
        out = sample(tiny_model, noise(2.0, batch=2), tiny_model.condition(batch=2), SETTINGS, anchor=anchor)
    keep = anchor.mask.bool()
    assert torch.allclose(out[..., keep], anchor.latent.expand_as(out)[..., keep], atol=1e-5)
    assert not torch.allclose(out[..., ~keep], anchor.latent.expand_as(out)[..., ~keep], atol=1e-2)


def test_the_generated_frames_hear_the_reference(tiny_model, reference_wav, noise):
    anchor = known_region(tiny_model, jobs.OutpaintControl(reference_wav, 0.5), 2.0)
    quieter = dataclasses.replace(anchor, latent=anchor.latent - 2.0)
    x_T, conditioning = noise(2.0, seed=4), tiny_model.condition()
    with torch.no_grad():
        first = sample(tiny_model, x_T, conditioning, SETTINGS, anchor=anchor)
        second = sample(tiny_model, x_T, conditioning, SETTINGS, anchor=quieter)
    free = ~anchor.mask.bool()
    assert not torch.allclose(first[..., free], second[..., free], atol=1e-3)


def test_an_anchored_chain_is_deterministic_and_differentiable_in_x_T(tiny_model, reference_wav, noise):
    anchor = known_region(tiny_model, jobs.InpaintControl(reference_wav, 0.5, 1.0), 2.0, noise_seed=3)
    conditioning = tiny_model.condition()
    x_T = noise(2.0, seed=5).requires_grad_(True)
    first = sample(tiny_model, x_T, conditioning, SETTINGS, anchor=anchor)
    again = sample(tiny_model, x_T, conditioning, SETTINGS, anchor=anchor)
    assert torch.equal(first, again)
    gap = ~anchor.mask.bool()
    first[..., gap].pow(2).mean().backward()
    assert x_T.grad is not None and x_T.grad.abs().sum() > 0
