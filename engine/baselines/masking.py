"""Naive masking for in-painting, out-painting and looping (the paper's "naive masking" baseline).

At every sampler step the known region of the latent is overwritten with the reference latent noised to the level
the step lands on (`engine.sampling.anchor`, fixed seeded noise); after the last step it holds the clean reference.
The model only ever sees the reference through the known frames of its input, so the boundary is free to clash.
"""

from __future__ import annotations

import dataclasses

import torch

from engine import job as jobs
from engine.baselines.schedule import BaselineError
from engine.controls.anchors import clip_end_frame, reference_latent
from engine.controls.anchors import known_region as _anchored_frames
from engine.job import SamplerSpec
from engine.models.base import Conditioning, DiffusionModel
from engine.sampling.anchor import Anchor
from engine.sampling.loop import ProgressHook, sample

__all__ = ["clip_end_frame", "known_region", "masked_sample", "reference_latent"]


def known_region(model: DiffusionModel, control, duration: float) -> Anchor:
    """The known region of an in-painting, out-painting or (reference) looping control (`engine.controls.anchors`)."""
    if isinstance(control, jobs.LoopControl) and control.reference is None:
        raise BaselineError("loop: naive masking needs a reference clip to loop back into; give the loop "
                            "control a reference")
    if not isinstance(control, (jobs.InpaintControl, jobs.OutpaintControl, jobs.LoopControl)):
        raise BaselineError(f"naive masking handles inpaint, outpaint and loop controls, not {control.type!r}")
    return _anchored_frames(model, control, duration)


def masked_sample(model: DiffusionModel, x_T: torch.Tensor, conditioning: Conditioning, known: Anchor,
                  sampler: SamplerSpec = SamplerSpec(), *, noise_seed: int = 0,
                  callback: ProgressHook | None = None) -> torch.Tensor:
    """Sample from `x_T` `(batch, *latent)` with the known region replaced at every step, the last included (the
    output is the clean reference there); returns x_0."""
    with torch.no_grad():
        return sample(model, x_T, conditioning, sampler, callback=callback,
                      anchor=dataclasses.replace(known, noise_seed=noise_seed))
