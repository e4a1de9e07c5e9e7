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
from engine.audio.gain import apply_gain_db
from engine.audio.resample import mono_at
from engine.controls import build_controls
from engine.controls.anchors import job_anchor, seam_control
from engine.controls.intensity import IntensityControl
from engine.controls.reach import tag_set_reach
from engine.controls.report import ControlReport, summary, take_reports
from engine.ditto import optimize
from engine.ditto.optimize import judge
from engine.errors import JobError
from engine.job import IntensityControl as IntensityJobControl
from engine.job import Job
from engine.models.base import DiffusionModel, ModelInfo
from engine.models.loudness import LoudnessRange
from engine.models.registry import load_model
from engine.plan import Plan
from engine.precision import precision_name
from engine.quality import plan_for
from engine.sampling.budget import step_activation_mib, steps_to_checkpoint
from engine.sampling.loop import sample
from engine.sampling.noise import seeded_noise

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
    plan: Plan = field(default_factory=Plan)  # the plan that ran
    anchored_frames: int = 0  # latent frames held to a reference (in/out-painting, loops)
    output_metrics: list[dict[str, float]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    steps_run: int = 0
    converged: bool = False
    device: str = "cpu"
    music_audio: np.ndarray | None = None  # (takes, channels, samples): the music before any level gain
    loudness_range: tuple[float, float] | None = None  # (low, high) dB the job's music reaches
    loudness_range_source: str | None = None  # how that range was found
    control_reports: list[list[ControlReport]] = field(default_factory=list)  # per take, per control

    @property
    def summaries(self) -> list[str]:
        """Per take, one line: each control met or missed, and gain in words (`engine/controls/report.py`)."""
        return [summary(take) for take in self.control_reports]

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
            "plan": self.plan.to_dict(),
            "anchored_frames": self.anchored_frames,
            "output_metrics": self.output_metrics,
            "loudness_range_db": list(self.loudness_range) if self.loudness_range else None,
            "loudness_range_source": self.loudness_range_source,
            "controls_report": [[r.to_dict() for r in take] for take in self.control_reports],
            "summary": self.summaries,
            "timings": self.timings,
            "warnings": self.warnings,
        }


def budgeted(plan: Plan, model: DiffusionModel, x_T: torch.Tensor, conditioning) -> Plan:
    """`plan` with as few checkpointed steps as its memory budget (MiB) allows (one extra model call to measure
    a step's activations); unchanged without a budget or with checkpointing off."""
    if plan.memory_budget_mib is None or plan.checkpointing is False:
        return plan
    chain = plan.optimized_through
    per_step = step_activation_mib(model, x_T, conditioning, chain.name)
    checkpointing = steps_to_checkpoint(chain.steps, plan.memory_budget_mib, per_step)
    logger.info("memory budget %.0f MiB, %.1f MiB per kept step: checkpointing %s of %d steps",
                plan.memory_budget_mib, per_step, checkpointing, chain.steps)
    return dataclasses.replace(plan, checkpointing=checkpointing)


def job_reach(model: DiffusionModel, job: Job, plan: Plan) -> LoudnessRange:
    """The loudness range `job`'s intensity targets are split against: its tag set's, measured on first use
    (`engine.controls.reach`), when it has an intensity control; the model's otherwise."""
    if not any(isinstance(c, IntensityJobControl) for c in job.controls):
        return model.loudness_range()
    return tag_set_reach(model, job.tags, job.prompt, job.guidance_scale, plan.rendered_with)


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
    return seeded_noise(model, job.duration, seeds).to(device), seeds


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
    plan = dataclasses.replace(plan_for(job), precision=precision_name(model.compute_dtype))
    conditioning = model.condition(tags=job.tags, prompt=job.prompt, guidance_scale=job.guidance_scale,
                                   batch=job.variations)
    reach = job_reach(model, job, plan)
    controls = build_controls(job, model, reach)
    anchor = job_anchor(model, job)
    seam = None if anchor is None else seam_control(model, anchor, job.duration)
    controls += [seam] if seam is not None else []
    x_T, seeds = initial_noise(model, job, model.device)
    clip_samples = int(round(job.duration * model.info.sample_rate))

    history, metric_history, checks, steps_run = [], [], [], 0
    t0 = time.perf_counter()
    ditto = None
    if controls and plan.optimizer_steps > 0:
        plan = budgeted(plan, model, x_T, conditioning)
        ditto = optimize(model, controls, x_T, conditioning, plan, progress=progress, should_cancel=should_cancel,
                         clip_samples=clip_samples, anchor=anchor)
        x_T, history, metric_history, checks = ditto.x_T, ditto.history, ditto.metrics, ditto.checks
        steps_run = ditto.steps_run
    timings["optimize"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if ditto is None:
        with torch.no_grad():
            latent = sample(model, x_T, conditioning, plan.rendered_with, noise_seed=plan.noise_seed, anchor=anchor)
            check = judge(model, controls, latent, clip_samples)
        rendered_audio = check.audio
        best_metrics = [{label: float(v[i]) for label, v in check.metrics.items()} for i in range(job.variations)]
        best_failures = [{label: f[i] for label, f in check.failures.items() if f[i]} for i in range(job.variations)]
    else:
        rendered_audio, best_metrics, best_failures = ditto.rendered_audio, ditto.best_metrics, ditto.best_failures
    timings["render"] = time.perf_counter() - t0
    if progress is not None:
        progress({"phase": "render", "step": steps_run, "total": plan.optimizer_steps,
                  "loss": history[-1]["total"] if history else 0.0, "losses": {},
                  "elapsed": time.perf_counter() - start})
    t0 = time.perf_counter()
    music = rendered_audio.float().cpu().numpy()[..., :clip_samples]
    audio, reports = finish_takes(controls, music, best_metrics, best_failures, model)
    output_metrics = [{r.label: r.metric for r in take} for take in reports]
    converged = all(r.met for take in reports for r in take)
    timings["decode_audio"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - start
    return GenerationResult(audio=np.ascontiguousarray(audio, dtype=np.float32), sample_rate=model.info.sample_rate,
                            job=job, model_info=model.info, seeds=seeds, x_T=x_T.detach().cpu(),
                            loss_history=history, metric_history=metric_history, render_checks=checks,
                            output_metrics=output_metrics,
                            plan=plan, anchored_frames=0 if anchor is None else int(anchor.mask.sum()),
                            timings=timings, warnings=warnings, steps_run=steps_run, converged=converged,
                            device=str(model.device), music_audio=np.ascontiguousarray(music, dtype=np.float32),
                            loudness_range=(reach.low_db, reach.high_db), loudness_range_source=reach.source,
                            control_reports=reports)


def finish_takes(controls: list, music: np.ndarray, metrics: list[dict[str, float]],
                 failures: list[dict[str, list[str]]], model: DiffusionModel
                 ) -> tuple[np.ndarray, list[list[ControlReport]]]:
    """The written takes `(takes, channels, samples)` from the rendered music (the same shape): the gain of every
    intensity control that allows it applied and soft-limited; and each take's control reports (measured on
    the takes as the features hear them: mono, at the mel's sample rate)."""
    gain_db = sum((c.gain_db.numpy() for c in controls if isinstance(c, IntensityControl)), np.zeros(1))
    audio, reports = music.copy(), []
    for take in range(music.shape[0]):
        limited_db = 0.0
        if np.abs(gain_db).max(initial=0.0) > 0.0:
            gained = apply_gain_db(music[take], gain_db, frame_rate=model.mel.frame_rate,
                                   sample_rate=model.info.sample_rate)
            audio[take], limited_db = gained.audio, gained.limited_db
        heard = mono_at(torch.from_numpy(np.stack([audio[take], music[take]])), model.info.sample_rate,
                        model.mel.sample_rate).numpy()
        reports.append(take_reports(controls, metrics[take], failures[take], heard[0], heard[1], limited_db))
    return audio, reports
