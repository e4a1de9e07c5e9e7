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
    """`(channels_in, samples)` -> `(channels, samples)`: to one channel, the mix (mean); otherwise channels are
    taken in turn, so mono is copied to every channel, extra channels are dropped (a 5.1 file gives its first
    two) and fewer channels are repeated."""
    have = audio.shape[0]
    if have == channels:
        return audio
    if channels == 1:
        return audio.mean(axis=0, keepdims=True)
    return audio[[i % have for i in range(channels)]]


def mono_at(audio: torch.Tensor, source_rate: int, target_rate: int) -> torch.Tensor:
    """`(batch, channels, samples)` at `source_rate` -> `(batch, 1, samples')` mono at `target_rate` (detached):
    what the features measure a model's decoded audio on."""
    return resample(to_mono(audio).unsqueeze(1), source_rate, target_rate)
