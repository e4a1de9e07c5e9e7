"""The initial noise x_T a seed stands for: one rule for the engine, its baselines and its benchmarks."""

from __future__ import annotations

from typing import Sequence

import torch

from engine.models.base import DiffusionModel


def seeded_noise(model: DiffusionModel, duration: float, seeds: Sequence[int]) -> torch.Tensor:
    """x_T `(len(seeds), *latent)` for a clip of `duration` seconds: each item a standard normal draw from a CPU
    generator seeded with its seed (the same numbers on every device), then moved to the model's device and
    dtype."""
    shape = model.latent_shape(duration)
    noise = [torch.randn(shape, generator=torch.Generator().manual_seed(int(seed))) for seed in seeds]
    return torch.stack(noise).to(model.device, model.dtype)
