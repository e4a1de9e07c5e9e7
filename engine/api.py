"""The engine's Python API: run one seconds-based job and get audio, losses and timings back.

    from engine.api import generate
    result = generate(Job.from_dict(data))   # result.audio: (takes, channels, samples) float32

The daemon's worker and the CLI both call `generate`. Nothing here writes files.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

from engine import __version__
from engine.controls import build_controls
from engine.ditto import optimize
from engine.errors import JobError
from engine.job import Job
from engine.models.base import DiffusionModel, ModelInfo
from engine.models.registry import load_model
from engine.sampling.loop import SamplerSettings, sample

logger = logging.getLogger(__name__)

__all__ = ["generate", "load_model", "GenerationResult", "settings_for"]

DRAFT_SAMPLER_STEPS = 10
DRAFT_OPTIMIZER_STEPS = 30


@dataclass
class GenerationResult:
    audio: np.ndarray  # (takes, channels, samples), float32 in [-1, 1]
    sample_rate: int
    job: Job
    model_info: ModelInfo
    seeds: list[int]
    x_T: torch.Tensor  # (takes, *latent), the optimized initial noise
    loss_history: list[dict[str, float]] = field(default_factory=list)
    metric_history: list[dict[str, float]] = field(default_factory=list)
    output_metrics: list[dict[str, float]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    steps_run: int = 0
    converged: bool = False
    device: str = "cpu"

    def to_sidecar(self) -> dict[str, Any]:
        """What goes into the JSON written beside the WAV."""
        return {
            "engine_version": __version__,
            "job": self.job.to_dict(),
            "model": dataclasses.asdict(self.model_info),
            "device": self.device,
            "seeds": self.seeds,
            "sample_rate": self.sample_rate,
            "optimization_steps_run": self.steps_run,
            "converged": self.converged,
            "loss_history": self.loss_history,
            "metric_history": self.metric_history,
            "output_metrics": self.output_metrics,
            "timings": self.timings,
            "warnings": self.warnings,
        }


def settings_for(job: Job) -> tuple[SamplerSettings, SamplerSettings, int]:
    """Optimization sampler, rendering sampler and optimizer steps for the job's quality."""
    spec, steps = job.sampler, job.optimizer.steps
    if job.quality == "draft":
        spec = dataclasses.replace(spec, steps=min(spec.steps, DRAFT_SAMPLER_STEPS))
        steps = min(steps, DRAFT_OPTIMIZER_STEPS)
    optimize_with = SamplerSettings(spec.name, spec.steps, spec.eta, job.seed, job.optimizer.checkpointing)
    final = job.final_sampler or spec
    render_with = SamplerSettings(final.name, final.steps, final.eta, job.seed, False)
    return optimize_with, render_with, steps


def initial_noise(model: DiffusionModel, job: Job, device: torch.device) -> tuple[torch.Tensor, list[int]]:
    """x_T `(variations, *latent)`: one seeded draw per take (seed, seed + 1, ...), or the warm-start latent."""
    shape = model.latent_shape(job.duration)
    seeds = [job.seed + i for i in range(job.variations)]
    if job.warm_start:
        try:
            start = torch.load(job.warm_start, map_location="cpu", weights_only=True)
        except (OSError, RuntimeError, ValueError) as error:
            raise JobError(f"warm_start: cannot read {job.warm_start} ({error})") from error
        if tuple(start.shape[1:]) != shape:
            raise JobError(f"warm_start: latent shape {tuple(start.shape[1:])} does not match this job's {shape} "
                           "(change of duration or model?)")
        start = start[torch.arange(job.variations) % start.shape[0]]
        return start.to(device, model.dtype), seeds
    noise = [torch.randn(shape, generator=torch.Generator().manual_seed(s)) for s in seeds]
    return torch.stack(noise).to(device, model.dtype), seeds


def generate(job: Job, *, model: DiffusionModel | None = None, device: torch.device | str | None = None,
             progress: Callable[[dict], None] | None = None,
             should_cancel: Callable[[], bool] | None = None) -> GenerationResult:
    """Run `job`: DITTO when it has controls (and optimizer steps > 0), then render every take."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    model = model if model is not None else load_model(job.model, device)
    timings["load_model"] = time.perf_counter() - start
    warnings = []
    if not model.info.trained:
        message = f"model {model.info.name!r} has RANDOM WEIGHTS: the audio is not music, only the control path runs"
        logger.warning(message)
        warnings.append(message)
    optimize_with, render_with, steps = settings_for(job)
    conditioning = model.condition(tags=job.tags, prompt=job.prompt, guidance_scale=job.guidance_scale,
                                   batch=job.variations)
    controls = build_controls(job, model)
    x_T, seeds = initial_noise(model, job, model.device)

    history, metric_history, steps_run, converged = [], [], 0, not controls
    t0 = time.perf_counter()
    if controls and steps > 0:
        ditto = optimize(model, controls, x_T, conditioning, optimize_with, steps=steps, lr=job.optimizer.lr,
                         early_stop=job.optimizer.early_stop, progress=progress, should_cancel=should_cancel)
        x_T, history, metric_history = ditto.x_T, ditto.history, ditto.metrics
        steps_run, converged = ditto.steps_run, ditto.converged
    timings["optimize"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    with torch.no_grad():
        latent = sample(model, x_T, conditioning, render_with)
        logmel = model.decode_mel(latent)
        output_metrics = [{c.label: float(c.metric(logmel[i:i + 1])) for c in controls} for i in range(job.variations)]
    timings["render"] = time.perf_counter() - t0
    if progress is not None:
        progress({"phase": "render", "step": steps_run, "total": steps, "loss": history[-1]["total"] if history else 0.0,
                  "losses": {}, "elapsed": time.perf_counter() - start})
    t0 = time.perf_counter()
    audio = model.decode_audio(latent).float().cpu().numpy()
    audio = audio[..., : int(round(job.duration * model.info.sample_rate))]
    timings["decode_audio"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - start
    return GenerationResult(audio=np.ascontiguousarray(audio, dtype=np.float32), sample_rate=model.info.sample_rate,
                            job=job, model_info=model.info, seeds=seeds, x_T=x_T.detach().cpu(),
                            loss_history=history, metric_history=metric_history, output_metrics=output_metrics,
                            timings=timings, warnings=warnings, steps_run=steps_run, converged=converged,
                            device=str(model.device))
