"""Noise levels of a diffusers scheduler's steps, and forward diffusion to a level.

`alphas_cumprod[t]` is the signal fraction alpha-bar of integer timestep t. After step i the latent sits at the
noise level of `timesteps[i + 1]` (clean after the last step), which holds for DDIM, DDPM and DPM-Solver++.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.errors import EngineError


class ScheduleError(EngineError, ValueError):
    """A scheduler was read before its timesteps were set, or has no alpha-bar table."""


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
        raise ScheduleError("scheduler: call set_timesteps first (DiffusionModel.make_scheduler does)")
    timesteps = [int(t) for t in scheduler.timesteps]
    bars = scheduler.alphas_cumprod
    final = float(getattr(scheduler, "final_alpha_cumprod", torch.tensor(1.0)))
    levels = []
    for i, t in enumerate(timesteps):
        t_prev = timesteps[i + 1] if i + 1 < len(timesteps) else None
        levels.append(StepLevels(i, t, float(bars[t]), final if t_prev is None else float(bars[t_prev]), t_prev))
    return levels


def noised(clean: torch.Tensor, noise: torch.Tensor, alpha_bar: float) -> torch.Tensor:
    """Forward diffusion q(x_t | x_0): sqrt(alpha_bar) x_0 + sqrt(1 - alpha_bar) eps."""
    return alpha_bar ** 0.5 * clean + (1.0 - alpha_bar) ** 0.5 * noise
