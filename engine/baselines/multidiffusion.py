"""MultiDiffusion (Bar-Tal et al., 2023) for out-painting and looping: windows on a shared canvas, averaged.

The output and the reference are windows on one latent canvas `(batch, *latent[:-1], canvas_frames)`. At every
step each *generated* window is denoised by the model on its own (one scheduler per window), each *reference*
window contributes the reference noised to the level the step lands on, and every canvas frame becomes the average
of the windows covering it. Where the output overlaps the reference, it is pulled halfway towards the reference at
every step instead of being replaced (naive masking) or optimized (DITTO). A looping canvas is circular: the
output window wraps around from the end of the reference into its start.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine import job as jobs
from engine.baselines.schedule import BaselineError, noised, step_levels, timestep_batch
from engine.controls.anchors import clip_end_frame, reference_latent
from engine.job import SamplerSpec
from engine.models.base import Conditioning, DiffusionModel
from engine.sampling.loop import ProgressHook, scheduler_step


@dataclass(frozen=True)
class Window:
    """`length` canvas frames from `start` (modulo the canvas length on a circular canvas)."""

    start: int
    length: int
    generated: bool

    def indices(self, canvas_frames: int, circular: bool) -> torch.Tensor:
        index = torch.arange(self.start, self.start + self.length)
        if circular:
            return index % canvas_frames
        if self.start < 0 or self.start + self.length > canvas_frames:
            raise BaselineError(f"window [{self.start}, {self.start + self.length}) lies outside a canvas of "
                                f"{canvas_frames} frames")
        return index


@dataclass(frozen=True)
class CanvasPlan:
    """Canvas frames, windows, whether it wraps, the clean reference on the canvas `(1, *latent[:-1], frames)`
    and which window is the output."""

    frames: int
    windows: tuple[Window, ...]
    circular: bool
    reference: torch.Tensor
    output: int

    def output_indices(self) -> torch.Tensor:
        return self.windows[self.output].indices(self.frames, self.circular)


def outpaint_plan(reference: torch.Tensor, overlap: int, output_frames: int) -> CanvasPlan:
    """Reference `(1, C, F_ref)` then the output, overlapping by `overlap` frames."""
    ref_frames = reference.shape[-1]
    if not 0 < overlap <= min(ref_frames, output_frames):
        raise BaselineError(f"overlap of {overlap} frames must be positive and fit both the reference "
                            f"({ref_frames}) and the output ({output_frames})")
    frames = ref_frames - overlap + output_frames
    canvas = torch.zeros(*reference.shape[:-1], frames, device=reference.device, dtype=reference.dtype)
    canvas[..., :ref_frames] = reference
    windows = (Window(0, ref_frames, False), Window(ref_frames - overlap, output_frames, True))
    return CanvasPlan(frames, windows, False, canvas, 1)


def loop_plan(reference: torch.Tensor, overlap: int, output_frames: int, end: int | None = None) -> CanvasPlan:
    """Circular canvas: the reference, then the output leading out of its end and back into its start.

    The output's first `overlap` frames lie on the reference's last ones and its frames `[end - overlap, end)` on
    the reference's first ones (`end`: where the clip ends, default `output_frames`; later frames are padding).
    """
    ref_frames = reference.shape[-1]
    end = output_frames if end is None else end
    if not 0 < 2 * overlap <= min(ref_frames, end):
        raise BaselineError(f"loop overlap of {overlap} frames must be positive and at most half the reference "
                            f"({ref_frames}) and the clip ({end})")
    frames = ref_frames + end - 2 * overlap
    if output_frames > frames:
        raise BaselineError(f"the output ({output_frames} frames) is longer than the loop canvas ({frames})")
    canvas = torch.zeros(*reference.shape[:-1], frames, device=reference.device, dtype=reference.dtype)
    canvas[..., :ref_frames] = reference
    windows = (Window(0, ref_frames, False), Window(ref_frames - overlap, output_frames, True))
    return CanvasPlan(frames, windows, True, canvas, 1)


def plan_for(model: DiffusionModel, control, duration: float) -> CanvasPlan:
    """The canvas of an out-painting or reference looping control of a job lasting `duration` seconds."""
    frames = model.latent_shape(duration)[-1]
    end = clip_end_frame(model, duration)
    if isinstance(control, jobs.OutpaintControl):
        source = reference_latent(model, control.reference)
        overlap = min(int(round(model.mel.seconds_to_frame(control.overlap))), source.shape[-1], end)
        return outpaint_plan(source, overlap, frames)
    if isinstance(control, jobs.LoopControl) and control.reference is not None:
        source = reference_latent(model, control.reference)
        overlap = min(max(1, int(round(model.mel.seconds_to_frame(control.overlap)))), source.shape[-1] // 2)
        return loop_plan(source, overlap, frames, end)
    raise BaselineError("MultiDiffusion handles out-painting and looping with a reference, not "
                        f"{getattr(control, 'type', type(control).__name__)!r}")


def multidiffusion_sample(model: DiffusionModel, x_T: torch.Tensor, conditioning: Conditioning, plan: CanvasPlan,
                          sampler: SamplerSpec = SamplerSpec(), *, noise_seed: int = 0,
                          callback: ProgressHook | None = None) -> torch.Tensor:
    """Sample the canvas from `x_T` `(batch, *latent[:-1], plan.frames)`; returns the clean canvas (same shape)."""
    if x_T.shape[-1] != plan.frames:
        raise BaselineError(f"x_T has {x_T.shape[-1]} frames, the canvas {plan.frames}")
    if sampler.name == "ddim" and sampler.eta > 0:
        raise BaselineError("MultiDiffusion here runs deterministic DDIM (eta 0), DDPM or DPM-Solver++")
    schedulers = {i: model.make_scheduler(sampler.name, sampler.steps)
                  for i, w in enumerate(plan.windows) if w.generated}
    reference_scheduler = model.make_scheduler(sampler.name, sampler.steps)
    levels = step_levels(reference_scheduler)
    indices = [w.indices(plan.frames, plan.circular) for w in plan.windows]
    count = torch.zeros(plan.frames)
    for index in indices:
        count.index_add_(0, index, torch.ones(len(index)))
    if (count == 0).any():
        raise BaselineError(f"{int((count == 0).sum())} canvas frames are covered by no window")
    count = count.to(x_T)
    reference = plan.reference.to(x_T)
    generator = torch.Generator().manual_seed(noise_seed)
    x = x_T * reference_scheduler.init_noise_sigma
    for level in levels:
        eps = torch.randn(x.shape, generator=generator).to(x)
        total = torch.zeros_like(x)
        for i, (window, index) in enumerate(zip(plan.windows, indices)):
            if window.generated:
                scheduler = schedulers[i]
                t = scheduler.timesteps[level.index]
                part = x[..., index]
                output = model.guided(scheduler.scale_model_input(part, t),
                                      timestep_batch(level.t, x.shape[0], x.device), conditioning)
                estimate = scheduler_step(scheduler, sampler, noise_seed, output, t, part, None)
            else:
                estimate = noised(reference[..., index], eps[..., index], level.alpha_bar_prev).expand_as(
                    x[..., index])
            total.index_add_(total.ndim - 1, index.to(x.device), estimate)
        x = total / count
        if callback is not None:
            callback({"i": level.index, "t": level.t, "x": x, "steps": len(levels)})
    return x


def canvas_noise(plan: CanvasPlan, x_T: torch.Tensor, seed: int) -> torch.Tensor:
    """Initial canvas noise `(batch, *latent[:-1], plan.frames)` whose output window holds `x_T` and whose other
    frames are seeded noise, so MultiDiffusion starts the output from the same x_T as the other methods."""
    generator = torch.Generator().manual_seed(seed)
    canvas = torch.randn(*x_T.shape[:-1], plan.frames, generator=generator).to(x_T)
    canvas[..., plan.output_indices().to(x_T.device)] = x_T
    return canvas
