import pytest
import torch

from engine import job as jobs
from engine.controls.anchors import can_anchor, job_anchor, known_region
from engine.errors import JobError


def _job(controls, seed=7):
    return jobs.Job(duration=2.0, seed=seed, controls=tuple(controls))


def test_a_job_without_references_has_no_anchor(tiny_model):
    assert job_anchor(tiny_model, _job([jobs.LoopControl(0.5)])) is None
    assert job_anchor(tiny_model, _job([])) is None


def test_the_job_anchor_joins_its_reference_controls_and_takes_the_jobs_seed(tiny_model, reference_wav):
    inpaint = jobs.InpaintControl(reference_wav, 0.5, 1.5)
    outpaint = jobs.OutpaintControl(reference_wav, 0.3)
    anchor = job_anchor(tiny_model, _job([inpaint, outpaint], seed=9))
    first = known_region(tiny_model, inpaint, 2.0)
    second = known_region(tiny_model, outpaint, 2.0)
    assert anchor.noise_seed == 9
    assert torch.equal(anchor.mask, torch.maximum(first.mask, second.mask))
    head = second.mask.bool()
    assert torch.allclose(anchor.latent[..., head], second.latent[..., head])  # the later control wins
    rest = first.mask.bool() & ~head
    assert torch.allclose(anchor.latent[..., rest], first.latent[..., rest])


def test_the_builtin_latent_can_be_anchored_a_vae_latent_cannot(tiny_model):
    from engine.models.adapters.tiny import tiny_adapter

    assert can_anchor(tiny_model)
    assert not can_anchor(tiny_adapter("stable-audio-open"))  # its own frame rate: frames would land wrong


def test_a_control_without_frames_to_hold_is_refused(tiny_model):
    with pytest.raises(JobError, match="reference"):
        known_region(tiny_model, jobs.LoopControl(0.5), 2.0)
