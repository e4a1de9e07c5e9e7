"""Chroma: energy in each of the 12 pitch classes per frame, from log-mel frames.

The mel frame is mapped back to a linear magnitude spectrum (filterbank pseudo-inverse), its power is pooled into
pitch classes with Gaussian bumps (one semitone wide) over FFT bins between `fmin` and `fmax`, and each frame is
normalized to sum to 1. Pitch class 0 is C, 9 is A.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from engine.audio.mel import MelSpec, check_logmel, mel_to_linear_magnitude

PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


@functools.lru_cache(maxsize=8)
def chroma_filterbank(spec: MelSpec, fmin: float = 60.0, fmax: float = 5000.0) -> np.ndarray:
    """`(12, n_fft // 2 + 1)` weights from FFT bins to pitch classes."""
    freqs = np.linspace(0, spec.sample_rate / 2, spec.n_fft // 2 + 1)
    weights = np.zeros((12, len(freqs)))
    valid = (freqs >= fmin) & (freqs <= fmax)
    midi = 69 + 12 * np.log2(np.maximum(freqs, 1e-6) / 440.0)
    for pc in range(12):
        distance = (midi - pc + 6) % 12 - 6
        weights[pc] = np.exp(-0.5 * (distance / 0.5) ** 2) * valid
    return weights


def chroma(logmel: torch.Tensor, spec: MelSpec = MelSpec(), *, eps: float = 1e-8) -> torch.Tensor:
    """Normalized chroma [shape=(..., 12, frames)] (each frame sums to 1) of log-mel [shape=(..., n_mels, frames)]."""
    check_logmel(logmel, spec.n_mels)
    power = mel_to_linear_magnitude(logmel, spec) ** 2
    bank = torch.as_tensor(chroma_filterbank(spec), dtype=logmel.dtype, device=logmel.device)
    energy = torch.matmul(bank, power) + eps
    return energy / energy.sum(dim=-2, keepdim=True)
