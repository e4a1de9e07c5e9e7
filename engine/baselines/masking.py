"""Naive masking for in-painting, out-painting and looping (the paper's "naive masking" baseline).

At every sampler step the known region of the latent is overwritten with the reference latent noised to the level
the step lands on (forward diffusion with fresh seeded noise); after the last step it holds the clean reference.
The model only ever sees the reference through the known frames of its input, so the boundary is free to clash.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine import job as jobs
from engine.audio.io import read_audio
from engine.baselines.schedule import BaselineError, noised, step_levels, timestep_batch
from engine.models.base import Conditioning, DiffusionModel
from engine.sampling.loop import ProgressHook, SamplerSettings, scheduler_step, step_noise


@dataclass(frozen=True)
class KnownRegion:
    """A clean reference latent `(1, *latent)` laid out on the output's frames and a frame mask `(frames,)`,
    1 where the output must equal the reference."""

    latent: torch.Tensor
    mask: torch.Tensor

    def frame_mask(self, like: torch.Tensor) -> torch.Tensor:
        """The mask shaped to broadcast over `like` `(batch, ..., frames)`."""
        return self.mask.to(like).view(*([1] * (like.ndim - 1)), -1)


def reference_latent(model: DiffusionModel, path: str) -> torch.Tensor:
    """Clean latent `(1, *latent)` of a reference audio file (needs `model.encode_audio`)."""
    audio, rate = read_audio(path)
    with torch.no_grad():
        return model.encode_audio(torch.from_numpy(audio).unsqueeze(0).to(model.device), rate).detach()


def _fit(latent: torch.Tensor, frames: int) -> torch.Tensor:
    """Crop, or pad by repeating the last frame, to `frames` frames."""
    if latent.shape[-1] >= frames:
        return latent[..., :frames]
    pad = latent[..., -1:].expand(*latent.shape[:-1], frames - latent.shape[-1])
    return torch.cat([latent, pad], dim=-1)


def clip_end_frame(model: DiffusionModel, duration: float) -> int:
    """Latent frame where a clip of `duration` seconds ends (the latent may be a few frames longer)."""
    frames = model.latent_shape(duration)[-1]
    return min(frames, model.mel.frames_for(duration))


def known_region(model: DiffusionModel, control, duration: float) -> KnownRegion:
    """The known region of an in-painting, out-painting or (reference) looping control, on the latent's frames.

    Frame placement follows `engine.controls.build_controls`: in-painting keeps the reference outside the gap,
    out-painting starts with the reference's last `overlap` seconds, a reference loop starts with the reference's
    last `overlap` seconds and ends with its first.
    """
    shape = model.latent_shape(duration)
    frames, end = shape[-1], clip_end_frame(model, duration)
    spec = model.mel
    if isinstance(control, jobs.InpaintControl):
        source = _fit(reference_latent(model, control.reference), frames)
        times = torch.from_numpy(spec.frame_times(frames))
        mask = ((times < control.gap_start) | (times >= control.gap_end)).float()
        mask[end:] = 0.0
        return KnownRegion(source, mask)
    if isinstance(control, jobs.OutpaintControl):
        source = reference_latent(model, control.reference)
        overlap = min(int(round(spec.seconds_to_frame(control.overlap))), source.shape[-1], end)
        latent = torch.zeros(1, *shape, device=source.device, dtype=source.dtype)
        latent[..., :overlap] = source[..., source.shape[-1] - overlap:]
        mask = torch.zeros(frames)
        mask[:overlap] = 1.0
        return KnownRegion(latent, mask)
    if isinstance(control, jobs.LoopControl):
        if control.reference is None:
            raise BaselineError("loop: naive masking needs a reference clip to loop back into; give the loop "
                                "control a reference")
        source = reference_latent(model, control.reference)
        overlap = min(max(1, int(round(spec.seconds_to_frame(control.overlap)))), source.shape[-1] // 2)
        latent = torch.zeros(1, *shape, device=source.device, dtype=source.dtype)
        latent[..., :overlap] = source[..., source.shape[-1] - overlap:]
        latent[..., end - overlap:end] = source[..., :overlap]
        mask = torch.zeros(frames)
        mask[:overlap] = 1.0
        mask[end - overlap:end] = 1.0
        return KnownRegion(latent, mask)
    raise BaselineError(f"naive masking handles inpaint, outpaint and loop controls, not {control.type!r}")


def masked_sample(model: DiffusionModel, x_T: torch.Tensor, conditioning: Conditioning, known: KnownRegion,
                  settings: SamplerSettings = SamplerSettings(), *, noise_seed: int = 0,
                  callback: ProgressHook | None = None) -> torch.Tensor:
    """Sample from `x_T` `(batch, *latent)` with the known region replaced at every step; returns x_0."""
    scheduler = model.make_scheduler(settings.name, settings.steps)
    levels = step_levels(scheduler)
    generator = torch.Generator().manual_seed(noise_seed)
    reference = known.latent.to(x_T)
    mask = known.frame_mask(x_T)
    stochastic = settings.name == "ddim" and settings.eta > 0
    variance = step_noise(x_T.shape, len(levels), settings.noise_seed, x_T.device, x_T.dtype) if stochastic else None

    def replace(x: torch.Tensor, alpha_bar: float) -> torch.Tensor:
        eps = torch.randn(x.shape, generator=generator).to(x)
        return mask * noised(reference, eps, alpha_bar) + (1.0 - mask) * x

    x = replace(x_T * scheduler.init_noise_sigma, levels[0].alpha_bar)
    for level in levels:
        t = scheduler.timesteps[level.index]
        output = model.guided(scheduler.scale_model_input(x, t), timestep_batch(level.t, x.shape[0], x.device),
                              conditioning)
        x = scheduler_step(scheduler, settings, output, t, x, None if variance is None else variance[level.index])
        x = replace(x, level.alpha_bar_prev)
        if callback is not None:
            callback({"i": level.index, "t": level.t, "x": x, "steps": len(levels)})
    return x

