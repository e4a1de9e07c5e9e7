"""Where a job's references hold the output: the anchored frames of in-painting, out-painting and loop controls.

Frame placement follows `engine.controls.build_controls`: in-painting keeps the reference outside the gap,
out-painting starts with the reference's last `overlap` seconds, a loop with a reference starts with the
reference's last `overlap` seconds and ends with its first. A loop without a reference has nothing to anchor.

A job with an anchor also gets a seam control (`engine.controls.seam`): the anchored frames are the reference
exactly, so what is left to optimize is how the generated frames join them.
"""

from __future__ import annotations

import torch

from engine import job as jobs
from engine.audio.io import read_audio
from engine.errors import JobError
from engine.controls.build import fit_to_frames
from engine.controls.seam import SEAM_TOLERANCE, Seam, joins
from engine.models.base import DiffusionModel
from engine.sampling.anchor import Anchor

ANCHORED = (jobs.InpaintControl, jobs.OutpaintControl, jobs.LoopControl)


def reference_latent(model: DiffusionModel, path: str) -> torch.Tensor:
    """Clean latent `(1, *latent)` of a reference audio file (needs `model.encode_audio`)."""
    audio, rate = read_audio(path)
    with torch.no_grad():
        return model.encode_audio(torch.from_numpy(audio).unsqueeze(0).to(model.device), rate).detach()


def clip_end_frame(model: DiffusionModel, duration: float) -> int:
    """Latent frame where a clip of `duration` seconds ends (the latent may be a few frames longer)."""
    frames = model.latent_shape(duration)[-1]
    return min(frames, model.mel.frames_for(duration))


def known_region(model: DiffusionModel, control, duration: float, *, noise_seed: int = 0) -> Anchor:
    """The anchored frames of one in-painting, out-painting or loop-with-reference control, on the latent's frames."""
    shape = model.latent_shape(duration)
    frames, end = shape[-1], clip_end_frame(model, duration)
    spec = model.mel
    if isinstance(control, jobs.InpaintControl):
        source = fit_to_frames(reference_latent(model, control.reference), frames)
        times = torch.from_numpy(spec.frame_times(frames))
        mask = ((times < control.gap_start) | (times >= control.gap_end)).float()
        mask[end:] = 0.0
        return Anchor(source, mask, noise_seed)
    if isinstance(control, jobs.OutpaintControl):
        source = reference_latent(model, control.reference)
        overlap = min(int(round(spec.seconds_to_frame(control.overlap))), source.shape[-1], end)
        latent = torch.zeros(1, *shape, device=source.device, dtype=source.dtype)
        latent[..., :overlap] = source[..., source.shape[-1] - overlap:]
        mask = torch.zeros(frames)
        mask[:overlap] = 1.0
        return Anchor(latent, mask, noise_seed)
    if isinstance(control, jobs.LoopControl) and control.reference is not None:
        source = reference_latent(model, control.reference)
        overlap = min(max(1, int(round(spec.seconds_to_frame(control.overlap)))), source.shape[-1] // 2)
        latent = torch.zeros(1, *shape, device=source.device, dtype=source.dtype)
        latent[..., :overlap] = source[..., source.shape[-1] - overlap:]
        latent[..., end - overlap:end] = source[..., :overlap]
        mask = torch.zeros(frames)
        mask[:overlap] = 1.0
        mask[end - overlap:end] = 1.0
        return Anchor(latent, mask, noise_seed)
    raise JobError(f"{control.type}: only in-painting, out-painting and loops with a reference hold frames to a "
                   "reference")


def can_anchor(model: DiffusionModel) -> bool:
    """Whether frames of `model`'s latent can be held to a reference: it encodes audio into its latent, and the
    latent's frames are the mel's (`DiffusionModel.latent_frames_are_mel_frames`)."""
    return model.latent_frames_are_mel_frames and type(model).encode_audio is not DiffusionModel.encode_audio


def job_anchor(model: DiffusionModel, job: jobs.Job) -> Anchor | None:
    """One anchor for all of `job`'s reference controls (later controls win where their frames overlap), seeded
    by the job; None when it has none or the model cannot hold its latent's frames to a reference."""
    controls = [c for c in job.controls if isinstance(c, ANCHORED) and getattr(c, "reference", None) is not None]
    if not controls or not can_anchor(model):
        return None
    regions = [known_region(model, c, job.duration, noise_seed=job.seed) for c in controls]
    latent, mask = regions[0].latent.clone(), regions[0].mask.clone()
    for region in regions[1:]:
        keep = region.frame_mask(latent).bool().expand_as(latent)
        latent = torch.where(keep, region.latent.to(latent), latent)
        mask = torch.maximum(mask, region.mask)
    return Anchor(latent, mask, job.seed)


def seam_control(model: DiffusionModel, anchor: Anchor, duration: float) -> Seam | None:
    """The control on the joins of `anchor`'s frames inside a clip of `duration`; None when there is no join."""
    end = clip_end_frame(model, duration)
    if not joins(anchor.mask, end):
        return None
    return Seam(label="seam", weight=1.0, tolerance=SEAM_TOLERANCE, mask=anchor.mask, end=end, spec=model.mel)
