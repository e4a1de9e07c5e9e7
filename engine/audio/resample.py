"""Sample-rate conversion and channel handling (soxr, high quality; not differentiable)."""

from __future__ import annotations

import numpy as np
import soxr
import torch


def to_mono(audio: torch.Tensor) -> torch.Tensor:
    """`(batch, channels, samples)` or `(batch, samples)` -> `(batch, samples)` (channel mean)."""
    return audio.mean(dim=1) if audio.ndim == 3 else audio


def resample_array(audio: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """`(..., samples)` float array from `source_rate` to `target_rate` Hz."""
    if source_rate == target_rate:
        return audio.astype(np.float32, copy=False)
    lead = audio.shape[:-1]
    flat = audio.reshape(-1, audio.shape[-1]).astype(np.float64)
    out = soxr.resample(flat.T, source_rate, target_rate, quality="HQ").T
    return np.ascontiguousarray(out.reshape(*lead, out.shape[-1]), dtype=np.float32)


def resample(audio: torch.Tensor, source_rate: int, target_rate: int) -> torch.Tensor:
    """Torch wrapper of `resample_array` (the result is detached)."""
    out = resample_array(audio.detach().cpu().numpy(), source_rate, target_rate)
    return torch.from_numpy(out).to(audio.device, audio.dtype)


def match_channels(audio: np.ndarray, channels: int) -> np.ndarray:
    """`(channels_in, samples)` -> `(channels, samples)`: mono is duplicated, extra channels are averaged."""
    if audio.shape[0] == channels:
        return audio
    mono = audio.mean(axis=0, keepdims=True)
    return np.repeat(mono, channels, axis=0)


def mono_at(audio: torch.Tensor, source_rate: int, target_rate: int) -> torch.Tensor:
    """`(batch, channels, samples)` at `source_rate` -> `(batch, 1, samples')` mono at `target_rate` (detached):
    what the features measure a model's decoded audio on."""
    return resample(to_mono(audio).unsqueeze(1), source_rate, target_rate)
