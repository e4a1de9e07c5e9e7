"""DOODL (Wallace et al., 2023): optimize the initial latent through an invertible EDICT sampler.

EDICT (Wallace et al., 2022) runs two coupled copies (x, y) of a DDIM chain, with DDIM's coefficients
a_t = sqrt(abar_prev / abar_t), b_t = sqrt(1 - abar_prev) - sqrt(abar_prev (1 - abar_t) / abar_t) and mixing p:

    x_i = a_t x + b_t eps(y, t)          y_i = a_t y + b_t eps(x_i, t)
    x'  = p x_i + (1 - p) y_i            y'  = p y_i + (1 - p) x'

Every step inverts exactly in closed form, so the backward pass keeps no activations: it walks the chain back,
rebuilding each step's input from its output by inversion, recomputes that one step with gradients and passes the
gradient on (memory flat in the number of steps, at the price of extra model calls).

DOODL's update on the (tied) latent pair: the loss gradient times `grad_scale`, clipped element-wise to
`clip`, momentum SGD (0.9, no dampening), a small Gaussian perturbation, then renormalization of the latent to its
initial norm. Both EDICT outputs are scored and their gradients averaged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

import torch

from engine.baselines.schedule import BaselineError, StepLevels, step_levels, timestep_batch, to_epsilon
from engine.controls.base import Control
from engine.ditto.optimize import DittoResult, control_losses, total_loss
from engine.errors import CancelledError
from engine.models.base import Conditioning, DiffusionModel

ProgressHook = Callable[[dict], None]
MIN_ALPHA_BAR = 1e-6


@dataclass(frozen=True)
class DoodlSettings:
    """EDICT sampling steps and mixing, and DOODL's optimizer (its published defaults where they carry over)."""

    sampler_steps: int = 20
    mix: float = 0.93
    steps: int = 70
    grad_scale: float = 1000.0
    clip: float = 1e-3
    momentum: float = 0.9
    perturbation: float = 1e-4
    renormalize: bool = True
    seed: int = 0


@dataclass(frozen=True)
class _Coefficients:
    level: StepLevels
    a: float
    b: float


def edict_coefficients(model: DiffusionModel, steps: int) -> tuple[list[_Coefficients], torch.Tensor]:
    """DDIM coefficients per step from the model's DDIM scheduler, and the timesteps EDICT runs.

    Steps that start from alpha-bar below `MIN_ALPHA_BAR` are left out, so the chain starts at the first level
    with some signal. At alpha-bar ~ 0 (a zero-terminal-SNR schedule sampled from its last timestep, like the
    built-in model's) a_t = sqrt(abar_prev / abar_t) is huge, and EDICT's second update a_t y + b_t eps(x_i)
    no longer cancels: y explodes. That is the level where the original EDICT's "leading" DDIM spacing starts.
    """
    scheduler = model.make_scheduler("ddim", steps)
    levels = [level for level in step_levels(scheduler) if level.alpha_bar >= MIN_ALPHA_BAR]
    if not levels:
        raise BaselineError(f"EDICT: every one of the {steps} steps starts below alpha-bar {MIN_ALPHA_BAR}")
    coefficients = []
    for level in levels:
        a = (level.alpha_bar_prev / level.alpha_bar) ** 0.5
        b = (1.0 - level.alpha_bar_prev) ** 0.5 - (level.alpha_bar_prev * (1.0 - level.alpha_bar)
                                                   / level.alpha_bar) ** 0.5
        coefficients.append(_Coefficients(level, a, b))
    return coefficients, torch.tensor([level.t for level in levels])


def _eps(model: DiffusionModel, z: torch.Tensor, c: _Coefficients, conditioning: Conditioning) -> torch.Tensor:
    output = model.guided(z, timestep_batch(c.level.t, z.shape[0], z.device), conditioning)
    return to_epsilon(output, z, c.level.alpha_bar, model.info.prediction_type)


def edict_step(model, x, y, c: _Coefficients, conditioning: Conditioning, mix: float):
    """One coupled EDICT denoising step (x_t, y_t) -> (x_{t-1}, y_{t-1})."""
    x_inter = c.a * x + c.b * _eps(model, y, c, conditioning)
    y_inter = c.a * y + c.b * _eps(model, x_inter, c, conditioning)
    x_next = mix * x_inter + (1.0 - mix) * y_inter
    y_next = mix * y_inter + (1.0 - mix) * x_next
    return x_next, y_next


def edict_inverse_step(model, x_next, y_next, c: _Coefficients, conditioning: Conditioning, mix: float):
    """Exact inverse of `edict_step`: (x_{t-1}, y_{t-1}) -> (x_t, y_t)."""
    y_inter = (y_next - (1.0 - mix) * x_next) / mix
    x_inter = (x_next - (1.0 - mix) * y_inter) / mix
    y = (y_inter - c.b * _eps(model, x_inter, c, conditioning)) / c.a
    x = (x_inter - c.b * _eps(model, y, c, conditioning)) / c.a
    return x, y


def edict_sample(model: DiffusionModel, x_T: torch.Tensor, conditioning: Conditioning, *, steps: int = 20,
                 mix: float = 0.93) -> tuple[torch.Tensor, torch.Tensor]:
    """EDICT sampling from the tied pair (x_T, x_T) `(batch, *latent)`; returns (x_0, y_0), no gradients."""
    coefficients, _ = edict_coefficients(model, steps)
    with torch.no_grad():
        x, y = x_T, x_T
        for c in coefficients:
            x, y = edict_step(model, x, y, c, conditioning, mix)
    return x, y


def edict_gradient(model: DiffusionModel, controls: Sequence[Control], x_T: torch.Tensor,
                   conditioning: Conditioning, *, steps: int, mix: float):
    """Loss per item `(batch,)`, per-control losses, metrics and d(loss)/d(x_T) by invertible backpropagation.

    The loss is the mean of the controls' total loss on the two EDICT outputs.
    """
    coefficients, _ = edict_coefficients(model, steps)
    with torch.no_grad():
        x, y = x_T, x_T
        for c in coefficients:
            x, y = edict_step(model, x, y, c, conditioning, mix)
    x0 = x.detach().requires_grad_(True)
    y0 = y.detach().requires_grad_(True)
    with torch.enable_grad():
        mel_x, mel_y = model.decode_mel(x0), model.decode_mel(y0)
        losses = control_losses(controls, mel_x)
        loss = 0.5 * (total_loss(controls, losses) + total_loss(controls, control_losses(controls, mel_y)))
        grad_x, grad_y = torch.autograd.grad(loss.sum(), (x0, y0))
    with torch.no_grad():
        metrics = {control.label: control.metric(mel_x.detach()) for control in controls}
    x, y = x0.detach(), y0.detach()
    for c in reversed(coefficients):
        with torch.no_grad():
            x, y = edict_inverse_step(model, x, y, c, conditioning, mix)
        x_in, y_in = x.requires_grad_(True), y.requires_grad_(True)
        with torch.enable_grad():
            x_out, y_out = edict_step(model, x_in, y_in, c, conditioning, mix)
            grad_x, grad_y = torch.autograd.grad((x_out, y_out), (x_in, y_in), (grad_x, grad_y))
        x, y = x_in.detach(), y_in.detach()
    return loss.detach(), {k: v.detach() for k, v in losses.items()}, metrics, grad_x + grad_y


def doodl_optimize(model: DiffusionModel, controls: Sequence[Control], x_T: torch.Tensor,
                   conditioning: Conditioning, settings: DoodlSettings = DoodlSettings(), *,
                   progress: ProgressHook | None = None,
                   should_cancel: Callable[[], bool] | None = None) -> DittoResult:
    """Run DOODL from `x_T` `(batch, *latent)` for `settings.steps` steps; returns the best latent per item.

    The result's `x_T` is meant for `edict_sample` with the same `sampler_steps` and `mix`.
    """
    if not 0.0 < settings.mix < 1.0:
        raise BaselineError(f"EDICT mixing must lie in (0, 1), got {settings.mix}")
    start = time.perf_counter()
    generator = torch.Generator().manual_seed(settings.seed)
    shape = (-1, *([1] * (x_T.ndim - 1)))
    latent = x_T.detach().clone()
    norm = latent.flatten(1).norm(dim=1)
    velocity = torch.zeros_like(latent)
    best_x = latent.clone()
    best_loss = torch.full((latent.shape[0],), float("inf"), device=latent.device)
    result = DittoResult(x_T=best_x)
    for step in range(settings.steps + 1):
        if should_cancel is not None and should_cancel():
            raise CancelledError(f"cancelled after {step} optimization steps")
        loss, losses, metrics, gradient = edict_gradient(model, controls, latent, conditioning,
                                                         steps=settings.sampler_steps, mix=settings.mix)
        improved = loss < best_loss
        best_loss = torch.where(improved, loss, best_loss)
        best_x[improved] = latent[improved]
        met = all(bool((metrics[c.label] <= c.tolerance).all()) for c in controls)
        result.history.append({**{k: float(v.mean()) for k, v in losses.items()}, "total": float(loss.mean())})
        result.metrics.append({k: float(v.mean()) for k, v in metrics.items()})
        if progress is not None:
            progress({"phase": "optimize", "step": step, "total": settings.steps, "loss": result.history[-1]["total"],
                      "metrics": result.metrics[-1], "elapsed": time.perf_counter() - start})
        if step == settings.steps:
            result.converged = met
            break
        update = (-settings.grad_scale * gradient).clamp(-settings.clip, settings.clip)
        velocity = settings.momentum * velocity + update if step else update
        latent = latent + velocity
        if settings.perturbation:
            latent = latent + settings.perturbation * torch.randn(latent.shape, generator=generator).to(latent)
        if settings.renormalize:
            latent = latent * (norm / latent.flatten(1).norm(dim=1)).view(shape)
        result.steps_run = step + 1
    result.x_T = best_x
    result.elapsed = time.perf_counter() - start
    return result
