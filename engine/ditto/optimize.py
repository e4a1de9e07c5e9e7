"""DITTO: optimize the initial noise x_T through the sampler so the output's features match the controls.

Novack et al., "DITTO: Diffusion Inference-Time T-Optimization for Music Generation", ICML 2024 (Algorithm 1):
Adam on x_T (lr 5e-3, K = 70 steps), loss = sum of weighted control losses on the decoded output, gradients
through the whole (checkpointed) sampler. Variations are a batch: each item's loss depends only on its own x_T,
so one backward pass optimizes all of them independently.

With a surrogate (a short chain optimized through, `render` the sampler that makes the audio), early stop is
decided on the render: whenever the chain's output is near tolerance (every metric within `VERIFY_MARGIN` x
tolerance), x is rendered once without gradients and the loop ends if the render meets every tolerance. A failed
check waits `VERIFY_GAP` steps before the next, so a chain that keeps "almost" meeting does not double the cost.
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
VERIFY_MARGIN = 1.5
VERIFY_GAP = 3


@dataclass
class DittoResult:
    """x_T* `(batch, *latent)` (the best seen per item, or the x whose render met tolerance), the loss history
    (one dict of mean losses per step: each control's label plus "total"), metric history (on the optimized
    chain), the render checks (step and mean metrics on the render), the steps run, whether all controls met
    tolerance, and `rendered`: the render sampler's clean latent `(batch, *latent)` of x_T* when a render check
    made it (so the caller need not render again), else None."""

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


def render_check(model: DiffusionModel, controls: Sequence[Control], x_T: torch.Tensor, conditioning: Conditioning,
                 render: SamplerSettings) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Render `x_T` without gradients; returns the clean latent and each control's metric `(batch,)` on it."""
    with torch.no_grad():
        latent = sample(model, x_T, conditioning, render)
        logmel = model.decode_mel(latent)
        return latent, {c.label: c.metric(logmel) for c in controls}


def optimize(model: DiffusionModel, controls: Sequence[Control], x_T: torch.Tensor, conditioning: Conditioning,
             sampler: SamplerSettings = SamplerSettings(), *, steps: int = 70, lr: float = 5e-3,
             early_stop: bool = True, render: SamplerSettings | None = None, check_margin: float = VERIFY_MARGIN,
             progress: ProgressHook | None = None, should_cancel: Callable[[], bool] | None = None) -> DittoResult:
    """Run DITTO from `x_T` `(batch, *latent)` through `sampler`; returns the best x_T per batch item.

    Cancellation is checked between steps (raises CancelledError). With `early_stop`, the loop ends as soon as
    every control of every item is within its tolerance: measured on the same pass the loss came from when
    `render` is None, else on a render with `render`, checked whenever every metric on the chain is within
    `check_margin` x its tolerance (see the module's docstring).
    """
    start = time.perf_counter()
    x = x_T.detach().clone().requires_grad_(True)
    optimizer = torch.optim.Adam([x], lr=lr)
    best_x = x.detach().clone()
    best_loss = torch.full((x.shape[0],), float("inf"), device=x.device)
    result = DittoResult(x_T=best_x)
    next_check = 0
    for step in range(steps + 1):
        if should_cancel is not None and should_cancel():
            raise CancelledError(f"cancelled after {step} optimization steps")
        logmel = model.decode_mel(sample(model, x, conditioning, sampler))
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
        if early_stop and render is not None and step >= next_check and within_tolerance(controls, metrics,
                                                                                           check_margin):
            latent, rendered = render_check(model, controls, x.detach(), conditioning, render)
            met = within_tolerance(controls, rendered)
            result.checks.append({"step": step, **{k: float(v.mean()) for k, v in rendered.items()}})
            _report(progress, "check", step, steps, result, start, {k: float(v.mean()) for k, v in rendered.items()})
            if met:
                best_x, result.rendered = x.detach().clone(), latent
            next_check = step + VERIFY_GAP
        elif render is not None:
            met = False
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
