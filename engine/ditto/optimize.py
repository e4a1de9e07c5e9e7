"""DITTO: optimize the initial noise x_T through the sampler so the output's features match the controls.

Novack et al., "DITTO: Diffusion Inference-Time T-Optimization for Music Generation", ICML 2024 (Algorithm 1):
Adam on x_T (lr 5e-3, K = 70 steps), loss = sum of weighted control losses on the decoded output, gradients
through the whole (checkpointed) sampler. Variations are a batch: each item's loss depends only on its own x_T,
so one backward pass optimizes all of them independently.

With a surrogate (a short chain optimized through, `render` the sampler that makes the audio), the loop checks
the render now and then: x is rendered once without gradients (a render check) and

- early stop is decided on the render: the loop ends when the render meets every tolerance;
- the loss is corrected toward the render: the chain's log-mel plus the (detached) difference between the
  render's log-mel and the chain's at the last check. The loss value then tracks the render's while the
  gradient still flows through the short chain, so the optimizer chases what the producer will hear, not the
  chain's approximation of it (a defect correction: the chain supplies the direction, the render the error).

A check runs at step 0, whenever every metric is within `CHECK_MARGIN` x tolerance (at most every `CHECK_GAP`
steps), and at least every `REFRESH_STEPS` steps, so the correction never goes stale for long.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch

from engine.controls.base import Control
from engine.errors import CancelledError
from engine.models.base import Conditioning, DiffusionModel
from engine.sampling.loop import SamplerSettings, sample

ProgressHook = Callable[[dict[str, Any]], None]
CHECK_MARGIN = 1.5
CHECK_GAP = 3
REFRESH_STEPS = 6


@dataclass
class DittoResult:
    """x_T* `(batch, *latent)` (the best seen per item, or the x whose render met tolerance), the loss history
    (one dict of mean losses per step: each control's label plus "total"), metric history (on the optimized
    chain's output, corrected toward the render once a render check ran), the render checks (step and mean
    metrics on the render), the steps run, whether all controls met tolerance, and `rendered`: the render
    sampler's clean latent `(batch, *latent)` of x_T* when a render check made it (so the caller need not render
    again), else None."""

    x_T: torch.Tensor
    history: list[dict[str, float]] = field(default_factory=list)
    metrics: list[dict[str, float]] = field(default_factory=list)
    checks: list[dict[str, float]] = field(default_factory=list)
    steps_run: int = 0
    converged: bool = False
    elapsed: float = 0.0
    rendered: torch.Tensor | None = None


def control_losses(controls: Sequence[Control], logmel: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-control loss `(batch,)` for each label."""
    return {control.label: control.loss(logmel) for control in controls}


def total_loss(controls: Sequence[Control], losses: dict[str, torch.Tensor]) -> torch.Tensor:
    """The paper's multi-objective sum, per batch item `(batch,)`."""
    return sum(control.weight * losses[control.label] for control in controls)


def within_tolerance(controls: Sequence[Control], metrics: dict[str, torch.Tensor], margin: float = 1.0) -> bool:
    """True when every control's metric `(batch,)` is within `margin` x its tolerance for every item."""
    return all(bool((metrics[c.label] <= margin * c.tolerance).all()) for c in controls)


@dataclass
class RenderCheck:
    """One render of x without gradients: its clean latent `(batch, *latent)`, its log-mel
    `(batch, n_mels, frames)` and each control's metric `(batch,)` on it."""

    latent: torch.Tensor
    logmel: torch.Tensor
    metrics: dict[str, torch.Tensor]


def render_check(model: DiffusionModel, controls: Sequence[Control], x_T: torch.Tensor, conditioning: Conditioning,
                 render: SamplerSettings) -> RenderCheck:
    """Render `x_T` with `render`, without gradients, and measure every control on it."""
    with torch.no_grad():
        latent = sample(model, x_T, conditioning, render)
        logmel = model.decode_mel(latent)
        return RenderCheck(latent, logmel, {c.label: c.metric(logmel) for c in controls})


def check_due(step: int, last_check: int | None, near: bool) -> bool:
    """Whether to render at `step`: first step, near tolerance (spaced by CHECK_GAP), or REFRESH_STEPS since."""
    if last_check is None:
        return True
    since = step - last_check
    return since >= REFRESH_STEPS or (near and since >= CHECK_GAP)


def optimize(model: DiffusionModel, controls: Sequence[Control], x_T: torch.Tensor, conditioning: Conditioning,
             sampler: SamplerSettings = SamplerSettings(), *, steps: int = 70, lr: float = 5e-3,
             early_stop: bool = True, render: SamplerSettings | None = None, check_margin: float = CHECK_MARGIN,
             progress: ProgressHook | None = None, should_cancel: Callable[[], bool] | None = None) -> DittoResult:
    """Run DITTO from `x_T` `(batch, *latent)` through `sampler`; returns the best x_T per batch item.

    Cancellation is checked between steps (raises CancelledError). Without `render`, early stop ends the loop
    as soon as every control of every item is within its tolerance on the same pass the loss came from. With
    `render` (a surrogate chain), the loss is corrected toward the render and early stop is decided on render
    checks (see the module's docstring); `check_margin` widens or narrows "near tolerance".
    """
    start = time.perf_counter()
    x = x_T.detach().clone().requires_grad_(True)
    optimizer = torch.optim.Adam([x], lr=lr)
    best_x = x.detach().clone()
    best_loss = torch.full((x.shape[0],), float("inf"), device=x.device)
    result = DittoResult(x_T=best_x)
    correction, last_check = None, None
    for step in range(steps + 1):
        if should_cancel is not None and should_cancel():
            raise CancelledError(f"cancelled after {step} optimization steps")
        chain_mel = model.decode_mel(sample(model, x, conditioning, sampler))
        logmel = chain_mel if correction is None else chain_mel + correction
        losses = control_losses(controls, logmel)
        total = total_loss(controls, losses)
        with torch.no_grad():
            metrics = {c.label: c.metric(logmel.detach()) for c in controls}
            improved = total.detach() < best_loss
            best_loss = torch.where(improved, total.detach(), best_loss)
            best_x[improved] = x.detach()[improved]
            met = within_tolerance(controls, metrics)
        result.history.append({**{k: float(v.detach().mean()) for k, v in losses.items()},
                               "total": float(total.detach().mean())})
        result.metrics.append({k: float(v.mean()) for k, v in metrics.items()})
        _report(progress, "optimize", step, steps, result, start, result.metrics[-1])
        if render is not None:
            met = False
            if check_due(step, last_check, within_tolerance(controls, metrics, check_margin)):
                check = render_check(model, controls, x.detach(), conditioning, render)
                with torch.no_grad():
                    # the render's loss is x's true loss; before the first check, losses were the chain's own
                    rendered_loss = total_loss(controls, control_losses(controls, check.logmel))
                    improved = (rendered_loss < best_loss if last_check is not None
                                else torch.ones_like(rendered_loss, dtype=torch.bool))
                    best_loss = torch.where(improved, rendered_loss, best_loss)
                    best_x[improved] = x.detach()[improved]
                last_check, met = step, within_tolerance(controls, check.metrics)
                correction = check.logmel - chain_mel.detach()
                means = {k: float(v.mean()) for k, v in check.metrics.items()}
                result.checks.append({"step": step, **means})
                _report(progress, "check", step, steps, result, start, means)
                if met:
                    best_x, result.rendered = x.detach().clone(), check.latent
        if (early_stop and met) or step == steps:
            result.converged = met
            break
        optimizer.zero_grad(set_to_none=True)
        total.sum().backward()
        optimizer.step()
        result.steps_run = step + 1
    result.x_T = best_x
    result.elapsed = time.perf_counter() - start
    return result


def _report(progress: ProgressHook | None, phase: str, step: int, steps: int, result: DittoResult, start: float,
            metrics: dict[str, float]) -> None:
    if progress is not None:
        progress({"phase": phase, "step": step, "total": steps, "loss": result.history[-1]["total"],
                  "losses": {k: v for k, v in result.history[-1].items() if k != "total"},
                  "metrics": metrics, "elapsed": time.perf_counter() - start})
