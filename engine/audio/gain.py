"""Level gain on finished audio: a smooth per-frame gain curve in dB applied sample by sample, with a soft limiter.

Used for the part of an intensity target the music itself is not asked to reach (`engine/controls/intensity.py`,
`split_target`). The gain curve lives on the mel's frame grid (frame k centred at (k + 0.5) / frame_rate
seconds) and is interpolated linearly between frame centres, held at the ends.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LIMIT = 0.98
"""Peaks above this (full scale 1.0) are bent down smoothly so a positive gain never clips."""


@dataclass(frozen=True)
class GainResult:
    """The audio after gain `(..., samples)`, and by how many dB the limiter pulled its loudest peak down
    (0 when it did not act)."""

    audio: np.ndarray
    limited_db: float


def gain_per_sample(gain_db: np.ndarray, frame_rate: float, sample_rate: int, samples: int) -> np.ndarray:
    """Linear gain `(samples,)` from a per-frame curve in dB `(frames,)`."""
    frame_times = (np.arange(len(gain_db)) + 0.5) / frame_rate
    sample_times = np.arange(samples) / sample_rate
    return 10.0 ** (np.interp(sample_times, frame_times, np.asarray(gain_db, float)) / 20.0)


def soft_limit(audio: np.ndarray, limit: float = LIMIT) -> np.ndarray:
    """Identity up to `limit`, then a tanh knee that approaches full scale (1.0) and never goes past it."""
    magnitude = np.abs(audio)
    over = magnitude > limit
    if not over.any():
        return audio
    headroom = 1.0 - limit
    bent = limit + headroom * np.tanh((magnitude - limit) / headroom)
    return np.where(over, np.sign(audio) * bent, audio)


def apply_gain_db(audio: np.ndarray, gain_db: np.ndarray, *, frame_rate: float, sample_rate: int) -> GainResult:
    """`audio` `(..., samples)` times the per-frame gain `gain_db` `(frames,)` (dB), soft-limited below full scale."""
    scaled = np.asarray(audio, np.float64) * gain_per_sample(gain_db, frame_rate, sample_rate, audio.shape[-1])
    limited = soft_limit(scaled)
    peak_before, peak_after = float(np.abs(scaled).max(initial=0.0)), float(np.abs(limited).max(initial=0.0))
    limited_db = 20 * np.log10(peak_before / peak_after) if peak_before > LIMIT else 0.0
    return GainResult(limited.astype(audio.dtype), float(limited_db))
