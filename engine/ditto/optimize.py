"""DITTO: optimize the initial noise x_T through the sampler so the output's features match the controls.

Novack et al., "DITTO: Diffusion Inference-Time T-Optimization for Music Generation", ICML 2024 (Algorithm 1):
Adam on x_T (lr 5e-3, K = 70 steps), loss = sum of weighted control losses on the decoded output, gradients
through the whole (checkpointed) sampler. Variations are a batch: each item's loss depends only on its own x_T,
so one backward pass optimizes all of them independently.

With a surrogate (a short chain optimized through, `render` the sampler that makes the audio), the loop checks
the render now and then: x is rendered once without gradients (a render check) and

- early stop is decided on the render: the loop ends when the render meets every tolerance with a margin
  (`STOP_SCORE`), or a few steps (`MARGIN_STEPS`) after it first met them all;
- the loss is corrected toward the render: the chain's log-mel plus the (detached) difference between the
  render's log-mel and the chain's at the last check. The loss value then tracks the render's while the
  gradient still flows through the short chain, so the optimizer chases what the producer will hear, not the
  chain's approximation of it (a defect correction: the chain supplies the direction, the render the error).

A check runs at step 0, whenever every metric is within `CHECK_MARGIN` x tolerance (at most every `CHECK_GAP`
steps; without a surrogate `CHAIN_IS_RENDER_MARGIN`, every step), at least every `REFRESH_STEPS` steps, so the
correction never goes stale for long, and at the last step.

What differs from the paper, and why:
- A check judges the render where it is heard: the clean latent is decoded to audio and each control measures
  it (`Control.audio_metric`; intensity on the waveform, since the vocoder's loudness is not the mel's) and
  corrects its own loss toward it (`Control.correct_toward`).
- The take is the best render: x_T* is the x whose render scored best at a check (`tolerance_score`, the worst
  metric-to-tolerance ratio), never the x with the lowest chain loss, which can mislead. Without a surrogate
  the chain is the render, and a check decodes its output without sampling again.
- A job that is close when its budget runs out may take `extra_steps` more rather than stop short.
- With a melody control, x_T first leans toward the tune (`engine.ditto.melody_start`: each frame's target pitch
  class added as a zero-mean harmonic comb at its mel bins); with a structure control, each section leans toward a
  spectral shape of its label (`engine.ditto.structure_start`).
- With an intensity control, a level start (`engine.ditto.level_start`, a few renders without gradients) first
  moves each frame's mean of x_T until the render's loudness is near the curve; Adam starts from its best render.
- Far from tolerance Adam's step grows with the distance (`lr_boost`), up to MAX_LR_BOOST x the preset's lr
  (presets turn it on; a job that sets its own lr gets exactly that lr).

Tried and left out: holding each frame's mean of x_T where the start put it during Adam, in jobs without an
intensity control (structure and melody takes play a few dB louder than uncontrolled ones, and a frame's mean sets
its level, `engine.ditto.level_start`). On the first 6 tune-split cases of each, default jobs, on the WAV
(`benchmarks/producer_eval.py --split tune --tasks structure --n-structure 6 --baselines 0`, likewise melody):

| task | Adam | level over uncontrolled | FD-mel ratio | level-normalized | control (median) |
|---|---|---|---|---|---|
| structure | free | +4.5 dB | 1.04 | 0.80 | SSM MSE 0.0119 |
| structure | frame means held | +1.5 dB | 1.37 | 1.34 | 0.0127 |
| melody | free | +0.9 dB | 1.13 | 0.74 | transcriber 90.5 % |
| melody | frame means held | +8.2 dB | 1.42 | 0.91 | 91.5 % |

Held means pushed the change into the spectral shape, further from the model's music, and melody takes got louder
anyway (through the spread over the bins, not the mean).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch

from engine.audio.resample import mono_at
from engine.controls.base import Control
from engine.ditto.level_start import LevelStartSettings, level_control, level_start
from engine.ditto.melody_start import melody_control, melody_start
from engine.ditto.structure_start import structure_control, structure_start
from engine.errors import CancelledError
from engine.job import SamplerSpec
from engine.models.base import Conditioning, DiffusionModel
from engine.plan import Plan
from engine.sampling.anchor import Anchor
from engine.sampling.loop import sample

ProgressHook = Callable[[dict[str, Any]], None]
CHECK_MARGIN = 1.5
CHAIN_IS_RENDER_MARGIN = 1.15
"""Without a surrogate the chain's metric is the render's own (corrected toward the waveform at the last check),
so a check, which only decodes audio then, is due when that metric is within this many tolerances."""
CHECK_GAP = 3
REFRESH_STEPS = 6
STOP_SCORE = 0.9
"""Early stop waits for every metric to be within this share of its tolerance. Two loudness meters framed
differently (the engine's at hop 256, a listener's or an evaluation's at 2048/512) read the same WAV up to about
0.2 dB RMS apart (near sharp steps, and where a limiter caught the gain): of 31 takes stopped right at their
1.5 dB RMS, 5 read over it on the evaluation's meter (held-out evaluation before this margin, docs/RESULTS.md)."""
MARGIN_STEPS = 4
"""Once every tolerance is met, at most this many more steps are spent on reaching STOP_SCORE."""
CLOSE_SCORE = 1.5
"""A render whose worst metric is within this many tolerances is close: the budget may be extended for it."""
FAR_SCORE = 3.0
MAX_LR_BOOST = 3.0
"""Far from tolerance (the chain's worst metric-to-tolerance ratio above FAR_SCORE) a take's Adam step grows with
the distance, x min(MAX_LR_BOOST, ratio / FAR_SCORE), as if its lr were that much larger: a take that starts
30 dB from its curve (a quiet tag set under a loud target) covers the distance in fewer steps, while the last
steps to tolerance keep the job's lr."""
POLISH_LR_SCALE = 0.3
"""After a level start, a job whose only control is intensity runs Adam at this share of its lr, unboosted: the
level start has covered the distance, and Adam's first steps move every value of x_T by about its lr, which
shifts a frame's mean enough to swing its level by several dB (on the tune split, takes the level start had
brought to 1.5-2 dB RMS rose to 3-9 dB RMS six steps into Adam at the full lr)."""


@dataclass
class DittoResult:
    """x_T* `(batch, *latent)`: per item, the x whose render scored best at a render check (render metrics, never
    the chain's loss); the loss history (one dict of mean losses per step: each control's label plus "total");
    the metric history (on the optimized chain's output, corrected toward the render once a check ran); the
    render checks (step and mean metrics on the render); the steps run; whether every item's best render met
    every tolerance; and the best render itself: its clean latent `(batch, *latent)`, decoded audio
    `(batch, channels, samples)`, metrics per item (`best_metrics[i][label]`) and failures per item (reasons a
    control failed whatever its metric), so the caller need not render again."""

    x_T: torch.Tensor
    history: list[dict[str, float]] = field(default_factory=list)
    metrics: list[dict[str, float]] = field(default_factory=list)
    checks: list[dict[str, float]] = field(default_factory=list)
    steps_run: int = 0
    converged: bool = False
    elapsed: float = 0.0
    rendered: torch.Tensor | None = None
    rendered_audio: torch.Tensor | None = None
    best_metrics: list[dict[str, float]] = field(default_factory=list)
    best_failures: list[dict[str, list[str]]] = field(default_factory=list)


def control_losses(controls: Sequence[Control], logmel: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-control loss `(batch,)` for each label."""
    return {control.label: control.loss(logmel) for control in controls}


def total_loss(controls: Sequence[Control], losses: dict[str, torch.Tensor]) -> torch.Tensor:
    """The paper's multi-objective sum, per batch item `(batch,)`."""
    return sum(control.weight * losses[control.label] for control in controls)


def within_tolerance(controls: Sequence[Control], metrics: dict[str, torch.Tensor], margin: float = 1.0) -> bool:
    """True when every control's metric `(batch,)` is within `margin` x its tolerance for every item."""
    return all(bool((metrics[c.label] <= margin * c.tolerance).all()) for c in controls)


def tolerance_score(controls: Sequence[Control], metrics: dict[str, torch.Tensor]) -> torch.Tensor:
    """`(batch,)` the worst metric-to-tolerance ratio over the controls: <= 1 means every control is met.
    Renders are ranked by it (a take is as good as its worst-kept control)."""
    if not controls:
        return torch.zeros(next(iter(metrics.values())).shape[0] if metrics else 1, dtype=torch.float64)
    return torch.stack([metrics[c.label].double() / c.tolerance for c in controls]).amax(dim=0)


def lr_boost(score: torch.Tensor, most: float = MAX_LR_BOOST) -> torch.Tensor:
    """Factor `(batch,)` on each take's Adam step for chains whose worst metric is `score` `(batch,)` tolerances
    away: 1 within FAR_SCORE, growing linearly beyond, at most `most` (1: no boost)."""
    return (score / FAR_SCORE).clamp(min=1.0, max=max(1.0, most))


def scaled_step(before: torch.Tensor, after: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """x after an optimizer step whose move from `before` to `after` `(batch, *latent)` is scaled per take by
    `factor` `(batch,)`."""
    return before + (after - before) * factor.view(-1, *([1] * (after.dim() - 1)))


@dataclass
class RenderCheck:
    """One render of x without gradients: its clean latent `(batch, *latent)`, its log-mel
    `(batch, n_mels, frames)`, its audio `(batch, channels, samples)` and that audio as the features hear it
    (`(batch, 1, samples)` mono at the mel's rate), each control's metric `(batch,)` judged on it (`Control.audio_metric`), the failures per control and item, and the tolerance score `(batch,)`."""

    latent: torch.Tensor
    logmel: torch.Tensor
    audio: torch.Tensor
    heard: torch.Tensor
    metrics: dict[str, torch.Tensor]
    failures: dict[str, list[list[str]]]
    score: torch.Tensor


def judge(model: DiffusionModel, controls: Sequence[Control], latent: torch.Tensor,
          clip_samples: int | None = None) -> RenderCheck:
    """Decode a rendered clean `latent` and measure every control on its log-mel and its audio (mono, at the
    features' sample rate), the audio cut to `clip_samples` (the clip as it is written; None: all of it)."""
    with torch.no_grad():
        latent = latent.detach()
        logmel = model.decode_mel(latent)
        audio = model.decode_audio(latent)[..., :clip_samples]
        heard = mono_at(audio, model.info.sample_rate, model.mel.sample_rate)
        metrics = {c.label: c.audio_metric(logmel, heard).to(latent.device) for c in controls}
        failures = {c.label: c.failures(heard) for c in controls}
        return RenderCheck(latent, logmel, audio, heard, metrics, failures, tolerance_score(controls, metrics))


def render_check(model: DiffusionModel, controls: Sequence[Control], x_T: torch.Tensor, conditioning: Conditioning,
                 render: SamplerSpec, clip_samples: int | None = None, anchor: Anchor | None = None,
                 noise_seed: int = 0) -> RenderCheck:
    """Render `x_T` with `render` (held to `anchor`), without gradients, and judge it (`judge`)."""
    with torch.no_grad():
        latent = sample(model, x_T, conditioning, render, noise_seed=noise_seed, anchor=anchor)
        return judge(model, controls, latent, clip_samples)


class BestRenders:
    """Per batch item, the best render seen so far by its tolerance score, with the x_T that made it."""

    def __init__(self, x: torch.Tensor):
        self.x = x.detach().clone()
        self.score = torch.full((x.shape[0],), float("inf"), dtype=torch.float64)
        self.latent: torch.Tensor | None = None
        self.audio: torch.Tensor | None = None
        self.metrics: list[dict[str, float]] = [{} for _ in range(x.shape[0])]
        self.failures: list[dict[str, list[str]]] = [{} for _ in range(x.shape[0])]

    def offer(self, x: torch.Tensor, check: RenderCheck) -> None:
        """Keep the items of `check` (rendered from `x`) that score better than what is kept."""
        better = check.score.cpu() < self.score
        if self.latent is None:
            self.latent, self.audio = check.latent.clone(), check.audio.clone()
        for i in torch.nonzero(better).flatten().tolist():
            self.x[i], self.latent[i], self.audio[i] = x[i], check.latent[i], check.audio[i]
            self.score[i] = check.score[i].cpu()
            self.metrics[i] = {label: float(value[i]) for label, value in check.metrics.items()}
            self.failures[i] = {label: reasons[i] for label, reasons in check.failures.items() if reasons[i]}

    @property
    def all_met(self) -> bool:
        return self.all_within(1.0)

    def all_within(self, score: float) -> bool:
        """Whether every item's best render scores at most `score` (1: exactly its tolerances)."""
        return bool((self.score <= score).all())

    @property
    def close(self) -> bool:
        return bool((self.score <= CLOSE_SCORE).all())


def check_due(step: int, last_check: int | None, near: bool, gap: int = CHECK_GAP) -> bool:
    """Whether to render at `step`: first step, near tolerance (spaced by `gap`), or REFRESH_STEPS since."""
    if last_check is None:
        return True
    since = step - last_check
    return since >= REFRESH_STEPS or (near and since >= gap)


class RenderCorrection:
    """The hook between the paper's loop and what the producer hears: when to check a render, the check itself,
    and the correction it leaves on the chain's log-mel (module docstring).

    With `render` None the chain is the render: a check decodes the chain's own output and the log-mel needs no
    correction (each control still corrects toward the waveform, `Control.correct_toward`)."""

    def __init__(self, model: DiffusionModel, controls: Sequence[Control], conditioning: Conditioning,
                 render: SamplerSpec | None, noise_seed: int, clip_samples: int | None, anchor: Anchor | None,
                 check_margin: float):
        self.model, self.controls, self.conditioning = model, controls, conditioning
        self.render, self.noise_seed, self.clip_samples, self.anchor = render, noise_seed, clip_samples, anchor
        self.near_margin = STOP_SCORE * (check_margin if render is not None else CHAIN_IS_RENDER_MARGIN)
        self.gap = CHECK_GAP if render is not None else 1
        self.offset: torch.Tensor | None = None
        self.last_check: int | None = None

    def corrected(self, chain_mel: torch.Tensor) -> torch.Tensor:
        """The chain's log-mel `(batch, n_mels, frames)` as the last render check heard it."""
        return chain_mel if self.offset is None else chain_mel + self.offset

    def due(self, step: int, metrics: dict[str, torch.Tensor]) -> bool:
        """Whether `step`, with the chain's (corrected) `metrics`, renders a check (`check_due`)."""
        return check_due(step, self.last_check, within_tolerance(self.controls, metrics, self.near_margin), self.gap)

    def check(self, step: int, x: torch.Tensor, chain_latent: torch.Tensor, chain_mel: torch.Tensor) -> RenderCheck:
        """Render `x` (or decode the chain's own `chain_latent`), judge it, and correct toward it from now on."""
        if self.render is None:
            check = judge(self.model, self.controls, chain_latent, self.clip_samples)
        else:
            check = render_check(self.model, self.controls, x.detach(), self.conditioning, self.render,
                                 self.clip_samples, self.anchor, self.noise_seed)
            self.offset = check.logmel - chain_mel.detach()
        for control in self.controls:
            control.correct_toward(check.logmel, check.heard)
        self.last_check = step
        return check


class Budget:
    """When the loop ends: early stop (every take within STOP_SCORE, or MARGIN_STEPS after all first met their
    tolerances), the step budget (extended by `extra_steps` once when every take is close at its end) and the
    time budget (the step that starts after it is the last)."""

    def __init__(self, steps: int, extra_steps: int, time_budget_s: float | None, early_stop: bool, start: float):
        self.steps, self.extra_steps, self.time_budget_s = steps, extra_steps, time_budget_s
        self.early_stop, self.start = early_stop, start
        self.limit = steps
        self.met_at: int | None = None
        self.out_of_time = False

    def is_last(self, step: int) -> bool:
        """Whether `step` is the last one the budgets allow (the time is read once per step, here)."""
        self.out_of_time = (self.time_budget_s is not None
                            and time.perf_counter() - self.start > self.time_budget_s)
        return step >= self.limit or self.out_of_time

    def stop(self, step: int, best: BestRenders, last: bool) -> bool:
        """Whether to end after `step`'s checks, given the best renders so far and whether `step` is the last."""
        self.met_at = step if self.met_at is None and best.all_met else self.met_at
        if self.early_stop and (best.all_within(STOP_SCORE)
                                or (self.met_at is not None and step - self.met_at >= MARGIN_STEPS)):
            return True
        if not last:
            return False
        if (self.limit == self.steps and self.extra_steps > 0 and best.close and not best.all_met
                and not self.out_of_time):
            self.limit = self.steps + self.extra_steps
            return False
        return True


def optimize(model: DiffusionModel, controls: Sequence[Control], x_T: torch.Tensor, conditioning: Conditioning,
             plan: Plan = Plan(), *, check_margin: float = CHECK_MARGIN, progress: ProgressHook | None = None,
             should_cancel: Callable[[], bool] | None = None, clip_samples: int | None = None,
             anchor: Anchor | None = None) -> DittoResult:
    """Run DITTO from `x_T` `(batch, *latent)` as `plan` says; returns each item's best render and its x_T.

    The paper's loop (sample through `plan.optimized_through`, decode, loss, Adam on x_T at `plan.lr`), with the
    render correction as a hook (`RenderCorrection`: checks at step 0, near tolerance, every REFRESH_STEPS and at
    the last step) and the stopping rules in one place (`Budget`). When the chain is the render sampler a check
    only decodes the chain's own output. With `plan.early_stop` the loop ends when every item's best render is
    within STOP_SCORE of every tolerance, or MARGIN_STEPS after every item first met them all. When
    `plan.optimizer_steps` run out with every item close (tolerance score <= CLOSE_SCORE), up to
    `plan.extra_steps` more run. With `plan.time_budget_s`, the step that starts after that many seconds is the
    last (checked, then returned). Cancellation is checked between steps (raises CancelledError). Renders are
    judged on their audio cut to `clip_samples`, the length the take is written with. `plan.max_lr_boost` > 1
    lets a take far from tolerance step further (`lr_boost`). With `plan.level_start_renders` and an intensity
    control, Adam starts where the level start left x (`_level_start`); with `plan.melody_start_amplitude` and a
    melody control, from x_T leaned toward the tune (`_melody_start`, before any level start). With `anchor`, the
    chain and every render hold its frames to its reference (`engine.sampling.anchor`).
    """
    start = time.perf_counter()
    x_T = _structure_start(model, controls, _melody_start(model, controls, x_T, plan), plan)
    best = BestRenders(x_T)
    result = DittoResult(x_T=best.x)
    x_start = _level_start(model, controls, x_T, conditioning, plan, best, result, clip_samples, anchor,
                           progress, should_cancel, start)
    polish = len(controls) == 1 and x_start is not x_T
    x = x_start.detach().clone().requires_grad_(True)
    optimizer = torch.optim.Adam([x], lr=plan.lr * (POLISH_LR_SCALE if polish else 1.0))
    most_boost = 1.0 if polish else plan.max_lr_boost
    render = plan.rendered_with if plan.surrogate else None
    correction = RenderCorrection(model, controls, conditioning, render, plan.noise_seed, clip_samples, anchor,
                                  check_margin)
    budget = Budget(plan.optimizer_steps, plan.extra_steps, plan.time_budget_s, plan.early_stop, start)
    met_already = plan.early_stop and best.all_within(STOP_SCORE)
    for step in () if met_already else itertools.count():
        if should_cancel is not None and should_cancel():
            raise CancelledError(f"cancelled after {step} optimization steps")
        chain_latent = sample(model, x, conditioning, plan.optimized_through, noise_seed=plan.noise_seed,
                              checkpointing=plan.checkpointing, anchor=anchor)
        chain_mel = model.decode_mel(chain_latent)
        logmel = correction.corrected(chain_mel)
        losses = control_losses(controls, logmel)
        total = total_loss(controls, losses)
        with torch.no_grad():
            metrics = {c.label: c.metric(logmel.detach()) for c in controls}
        result.history.append({**{k: float(v.detach().mean()) for k, v in losses.items()},
                               "total": float(total.detach().mean())})
        result.metrics.append({k: float(v.mean()) for k, v in metrics.items()})
        _report(progress, "optimize", step, budget.limit, result, start, result.metrics[-1])
        last = budget.is_last(step)
        if last or correction.due(step, metrics):
            check = correction.check(step, x, chain_latent, chain_mel)
            best.offer(x.detach(), check)
            means = {k: float(v.mean()) for k, v in check.metrics.items()}
            result.checks.append({"step": step, **means})
            _report(progress, "check", step, budget.limit, result, start, means)
        if budget.stop(step, best, last):
            break
        optimizer.zero_grad(set_to_none=True)
        total.sum().backward()
        before = x.detach().clone()
        optimizer.step()
        with torch.no_grad():  # per take, so the takes of a batch stay independent
            x.copy_(scaled_step(before, x, lr_boost(tolerance_score(controls, metrics), most_boost).to(x)))
        result.steps_run = step + 1
    result.converged = best.all_met
    result.x_T, result.rendered, result.rendered_audio = best.x, best.latent, best.audio
    result.best_metrics, result.best_failures = best.metrics, best.failures
    result.elapsed = time.perf_counter() - start
    return result


def _melody_start(model: DiffusionModel, controls: Sequence[Control], x_T: torch.Tensor,
                  plan: Plan) -> torch.Tensor:
    """x_T leaned toward the tune (`engine.ditto.melody_start`) when the plan asks for it, the job has one melody
    control and the model's latent is the mel itself; else x_T."""
    control = melody_control(controls)
    if (plan.melody_start_amplitude <= 0 or control is None or not model.latent_frames_are_mel_frames
            or tuple(x_T.shape[-2:]) != (control.spec.n_mels, control.target.shape[-1])):
        return x_T
    return melody_start(x_T.detach(), control, plan.melody_start_amplitude)


def _structure_start(model: DiffusionModel, controls: Sequence[Control], x_T: torch.Tensor,
                     plan: Plan) -> torch.Tensor:
    """x_T with each section leaning toward its label's spectral shape (`engine.ditto.structure_start`) when the
    plan asks for it, the job has one structure control and the model's latent is the mel itself; else x_T."""
    control = structure_control(controls)
    if (plan.structure_start_amplitude <= 0 or control is None or not model.latent_frames_are_mel_frames
            or x_T.shape[-2] != model.mel.n_mels or -(-x_T.shape[-1] // control.pool) != control.target.shape[-1]):
        return x_T
    return structure_start(x_T.detach(), control, plan.structure_start_amplitude)


def _level_start(model: DiffusionModel, controls: Sequence[Control], x_T: torch.Tensor, conditioning: Conditioning,
                 plan: Plan, best: BestRenders, result: DittoResult, clip_samples: int | None, anchor: Anchor | None,
                 progress: ProgressHook | None, should_cancel: Callable[[], bool] | None,
                 start: float) -> torch.Tensor:
    """x_T moved frame by frame toward the intensity curve (`engine.ditto.level_start`) when the plan asks for
    it, the job has one intensity control and the model's latent frames are the mel's; else x_T itself (the same
    tensor). Its renders go to `best` and to `result.checks` (marked `level_render`, 1-based)."""
    control = level_control(controls)
    if (plan.level_start_renders <= 0 or control is None or not model.latent_frames_are_mel_frames
            or control.target_db.shape[-1] != x_T.shape[-1]):
        return x_T

    def render(x: torch.Tensor) -> torch.Tensor:
        if should_cancel is not None and should_cancel():
            raise CancelledError("cancelled while finding the level to start from")
        check = render_check(model, controls, x, conditioning, plan.rendered_with, clip_samples, anchor,
                             plan.noise_seed)
        best.offer(x, check)
        for each in controls:  # Adam's first chain metrics then read as this render is heard
            each.correct_toward(check.logmel, check.heard)
        means = {label: float(value.mean()) for label, value in check.metrics.items()}
        result.checks.append({"step": 0, "level_render": len(result.checks) + 1, **means})
        if progress is not None:
            progress({"phase": "level", "step": 0, "total": plan.optimizer_steps, "loss": 0.0, "losses": {},
                      "metrics": means, "elapsed": time.perf_counter() - start})
        return check.heard

    level_start(x_T.detach(), control, render, LevelStartSettings(renders=plan.level_start_renders),
                good_enough=lambda: best.all_within(STOP_SCORE))
    return best.x.clone()


def _report(progress: ProgressHook | None, phase: str, step: int, steps: int, result: DittoResult, start: float,
            metrics: dict[str, float]) -> None:
    if progress is not None:
        progress({"phase": phase, "step": step, "total": steps, "loss": result.history[-1]["total"],
                  "losses": {k: v for k, v in result.history[-1].items() if k != "total"},
                  "metrics": metrics, "elapsed": time.perf_counter() - start})
