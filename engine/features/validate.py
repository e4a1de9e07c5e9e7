"""Boundary checks for feature inputs: floating point, finite, right rank."""

from __future__ import annotations

import torch

from engine.errors import FeatureInputError


def check_logmel(logmel: torch.Tensor, n_mels: int, *, name: str = "logmel") -> None:
    """Raise FeatureInputError unless `logmel` is a finite float tensor `(..., n_mels, frames)`."""
    if not isinstance(logmel, torch.Tensor) or not logmel.is_floating_point():
        raise FeatureInputError(f"{name}: expected a floating point torch.Tensor, got "
                                f"{getattr(logmel, 'dtype', type(logmel).__name__)}")
    if logmel.ndim < 2 or logmel.shape[-2] != n_mels:
        raise FeatureInputError(f"{name}: expected shape (..., {n_mels}, frames), got {tuple(logmel.shape)}")
    if not torch.isfinite(logmel).all():
        raise FeatureInputError(f"{name}: contains NaN or infinite values")
