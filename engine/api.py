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
from engine.quality import Plan, plan_for
from engine.sampling.budget import step_activation_mib, steps_to_checkpoint
from engine.sampling.loop import SamplerSettings, sample

logger = logging.getLogger(__name__)

__all__ = ["generate", "load_model", "GenerationResult", "plan_for"]


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
    render_checks: list[dict[str, float]] = field(default_factory=list)
    plan: dict[str, Any] = field(default_factory=dict)
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
            "render_checks": self.render_checks,
            "plan": self.plan,
            "output_metrics": self.output_metrics,
            "timings": self.timings,
            "warnings": self.warnings,
        }


def budgeted(settings: SamplerSettings, job: Job, model: DiffusionModel, x_T: torch.Tensor,
             conditioning) -> SamplerSettings:
    """`settings` with as few checkpointed steps as the job's memory budget allows (one extra model call to
    measure a step's activations); unchanged without a budget or with checkpointing off."""
    budget = job.optimizer.memory_budget_mib
    if budget is None or settings.checkpointing is False:
        return settings
    per_step = step_activation_mib(model, x_T, conditioning, settings.name)
    checkpointing = steps_to_checkpoint(settings.steps, budget, per_step)
    logger.info("memory budget %.0f MiB, %.1f MiB per kept step: checkpointing %s of %d steps", budget, per_step,
                checkpointing, settings.steps)
    return dataclasses.replace(settings, checkpointing=checkpointing)


def plan_summary(plan: Plan, optimize_with: SamplerSettings) -> dict[str, Any]:
    """The plan as the sidecar records it: the chain optimized through (with the checkpointing it ran with), the
    render sampler, K and lr."""
    def spec(settings: SamplerSettings) -> dict[str, Any]:
        return {"name": settings.name, "steps": settings.steps, "eta": settings.eta}

    return {"optimized_through": {**spec(optimize_with), "checkpointing": optimize_with.checkpointing},
            "rendered_with": spec(plan.render_with),
            "optimizer_steps": plan.optimizer_steps, "lr": plan.lr}


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
    plan = plan_for(job)
    conditioning = model.condition(tags=job.tags, prompt=job.prompt, guidance_scale=job.guidance_scale,
                                   batch=job.variations)
    controls = build_controls(job, model)
    x_T, seeds = initial_noise(model, job, model.device)

    history, metric_history, checks, steps_run, latent = [], [], [], 0, None
    t0 = time.perf_counter()
    optimize_with = plan.optimize_with
    if controls and plan.optimizer_steps > 0:
        optimize_with = budgeted(plan.optimize_with, job, model, x_T, conditioning)
        ditto = optimize(model, controls, x_T, conditioning, optimize_with, steps=plan.optimizer_steps,
                         lr=plan.lr, early_stop=job.optimizer.early_stop,
                         render=plan.render_with if plan.surrogate else None, progress=progress,
                         should_cancel=should_cancel)
        x_T, history, metric_history, checks = ditto.x_T, ditto.history, ditto.metrics, ditto.checks
        steps_run, latent = ditto.steps_run, ditto.rendered
    timings["optimize"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    with torch.no_grad():
        if latent is None:
            latent = sample(model, x_T, conditioning, plan.render_with)
        logmel = model.decode_mel(latent)
        output_metrics = [{c.label: float(c.metric(logmel[i:i + 1])) for c in controls} for i in range(job.variations)]
    converged = all(item[c.label] <= c.tolerance for c in controls for item in output_metrics)
    timings["render"] = time.perf_counter() - t0
    if progress is not None:
        progress({"phase": "render", "step": steps_run, "total": plan.optimizer_steps,
                  "loss": history[-1]["total"] if history else 0.0, "losses": {},
                  "elapsed": time.perf_counter() - start})
    t0 = time.perf_counter()
    audio = model.decode_audio(latent).float().cpu().numpy()
    audio = audio[..., : int(round(job.duration * model.info.sample_rate))]
    timings["decode_audio"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - start
    return GenerationResult(audio=np.ascontiguousarray(audio, dtype=np.float32), sample_rate=model.info.sample_rate,
                            job=job, model_info=model.info, seeds=seeds, x_T=x_T.detach().cpu(),
                            loss_history=history, metric_history=metric_history, render_checks=checks,
                            output_metrics=output_metrics, plan=plan_summary(plan, optimize_with),
                            timings=timings, warnings=warnings, steps_run=steps_run, converged=converged,
                            device=str(model.device))
