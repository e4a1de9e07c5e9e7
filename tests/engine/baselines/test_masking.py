import torch

from engine import job as jobs
from engine.baselines.masking import known_region, masked_sample
from engine.controls.base import masked_mse
from engine.job import SamplerSpec
from engine.sampling import sample

SETTINGS = SamplerSpec("ddim", 4)


def test_known_regions_follow_the_controls_frame_placement(tiny_model, reference_wav):
    frames, end = tiny_model.latent_shape(2.0)[-1], tiny_model.mel.frames_for(2.0)
    inpaint = known_region(tiny_model, jobs.InpaintControl(reference_wav, 0.5, 1.0), 2.0)
    gap = int(((torch.arange(frames) / tiny_model.mel.frame_rate >= 0.5)
               & (torch.arange(frames) / tiny_model.mel.frame_rate < 1.0)).sum())
    assert inpaint.latent.shape == (1, *tiny_model.latent_shape(2.0))
    assert int(inpaint.mask.sum()) == end - gap  # padding frames past the clip's end are free
    outpaint = known_region(tiny_model, jobs.OutpaintControl(reference_wav, 0.5), 2.0)
    overlap = round(0.5 * tiny_model.mel.frame_rate)
    assert outpaint.mask[:overlap].all() and not outpaint.mask[overlap:].any()
    loop = known_region(tiny_model, jobs.LoopControl(0.5, reference_wav), 2.0)
    assert int(loop.mask.sum()) == 2 * overlap
    # the loop's last overlap frames carry the reference's first ones
    source = known_region(tiny_model, jobs.InpaintControl(reference_wav, 1.9, 2.0), 2.0).latent
    assert torch.allclose(loop.latent[..., end - overlap:end], source[..., :overlap])


def test_masking_returns_the_reference_exactly_in_the_known_frames(tiny_model, reference_wav, noise):
    known = known_region(tiny_model, jobs.InpaintControl(reference_wav, 0.5, 1.0), 2.0)
    x_T = noise(2.0, batch=2)
    out = masked_sample(tiny_model, x_T, tiny_model.condition(batch=2), known, SETTINGS)
    assert out.shape == x_T.shape
    keep = known.mask.bool()
    assert torch.allclose(out[..., keep], known.latent.expand_as(out)[..., keep], atol=1e-5)
    assert not torch.allclose(out[..., ~keep], known.latent.expand_as(out)[..., ~keep], atol=1e-2)


def test_masking_matches_the_reference_better_than_no_control(tiny_model, reference_wav, noise):
    known = known_region(tiny_model, jobs.OutpaintControl(reference_wav, 0.5), 2.0)
    x_T, conditioning = noise(2.0, seed=3), tiny_model.condition()
    with torch.no_grad():
        free = sample(tiny_model, x_T, conditioning, SETTINGS)
    masked = masked_sample(tiny_model, x_T, conditioning, known, SETTINGS)
    reference, mask = tiny_model.decode_mel(known.latent), known.mask
    assert masked_mse(tiny_model.decode_mel(masked), reference, mask) < 0.1 * masked_mse(
        tiny_model.decode_mel(free), reference, mask)
