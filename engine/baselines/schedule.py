"""Noise-schedule arithmetic the baselines share: noise levels per sampler step and prediction conversions.

Every baseline steps a real diffusers scheduler (`DiffusionModel.make_scheduler`), and reads its noise levels
from it: `alphas_cumprod[t]` is the signal fraction alpha-bar of integer timestep t. After step i the latent sits at
the noise level of `timesteps[i + 1]` (clean after the last step), which holds for DDIM, DDPM and DPM-Solver++.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.errors import EngineError


class BaselineError(EngineError, ValueError):
    """A baseline was asked for something it cannot do (a sampler it does not support, a region outside the clip)."""


@dataclass(frozen=True)
class StepLevels:
    """Integer timestep `t` of one sampler step, alpha-bar at t, and alpha-bar of the level the step lands on."""

    index: int
    t: int
    alpha_bar: float
    alpha_bar_prev: float
    t_prev: int | None  # None: the step lands on clean data


def step_levels(scheduler) -> list[StepLevels]:
    """Noise levels of every step of a diffusers scheduler that has `alphas_cumprod` and `timesteps` set."""
    if getattr(scheduler, "timesteps", None) is None or not hasattr(scheduler, "alphas_cumprod"):
        raise BaselineError("scheduler: call set_timesteps first (DiffusionModel.make_scheduler does)")
    timesteps = [int(t) for t in scheduler.timesteps]
    bars = scheduler.alphas_cumprod
    final = float(getattr(scheduler, "final_alpha_cumprod", torch.tensor(1.0)))
    levels = []
    for i, t in enumerate(timesteps):
        t_prev = timesteps[i + 1] if i + 1 < len(timesteps) else None
        levels.append(StepLevels(i, t, float(bars[t]), final if t_prev is None else float(bars[t_prev]), t_prev))
    return levels


def to_epsilon(output: torch.Tensor, x_t: torch.Tensor, alpha_bar: float, prediction_type: str) -> torch.Tensor:
    """The noise estimate eps from a model output of `prediction_type` at latent `x_t` (same shape)."""
    a, s = alpha_bar ** 0.5, (1.0 - alpha_bar) ** 0.5
    if prediction_type == "epsilon":
        return output
    if prediction_type == "v_prediction":
        return a * output + s * x_t
    if prediction_type == "sample":
        return (x_t - a * output) / s
    raise BaselineError(f"prediction_type {prediction_type!r}: expected epsilon, v_prediction or sample")


def to_x0(output: torch.Tensor, x_t: torch.Tensor, alpha_bar: float, prediction_type: str) -> torch.Tensor:
    """The clean-data estimate x0 from a model output of `prediction_type` at latent `x_t`."""
    a, s = alpha_bar ** 0.5, (1.0 - alpha_bar) ** 0.5
    if prediction_type == "sample":
        return output
    return (x_t - s * to_epsilon(output, x_t, alpha_bar, prediction_type)) / a


def noised(clean: torch.Tensor, noise: torch.Tensor, alpha_bar: float) -> torch.Tensor:
    """Forward diffusion q(x_t | x_0): sqrt(alpha_bar) x_0 + sqrt(1 - alpha_bar) eps."""
    return alpha_bar ** 0.5 * clean + (1.0 - alpha_bar) ** 0.5 * noise


def timestep_batch(t: int, batch: int, device: torch.device) -> torch.Tensor:
    return torch.full((batch,), int(t), device=device, dtype=torch.long)
