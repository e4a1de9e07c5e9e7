"""Noise-schedule arithmetic the baselines share: noise levels per sampler step and prediction conversions.

Every baseline steps a real diffusers scheduler (`DiffusionModel.make_scheduler`) and reads its noise levels
from it (`engine.sampling.levels`, shared with the sampler's anchoring).
"""

from __future__ import annotations

import torch

from engine.errors import EngineError
from engine.sampling.levels import StepLevels, noised, step_levels

__all__ = ["BaselineDivergedError", "BaselineError", "StepLevels", "noised", "step_levels", "timestep_batch", "to_epsilon", "to_x0"]


class BaselineError(EngineError, ValueError):
    """A baseline was asked for something it cannot do (a sampler it does not support, a region outside the clip)."""


class BaselineDivergedError(BaselineError):
    """A guided baseline's sample went non-finite (its guidance step overshot): there is no take to write."""


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


def timestep_batch(t: int, batch: int, device: torch.device) -> torch.Tensor:
    return torch.full((batch,), int(t), device=device, dtype=torch.long)
