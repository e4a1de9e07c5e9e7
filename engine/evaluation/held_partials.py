"""Held-partial ratio: the share of a clip's spectral peaks that stay on one mel bin.

Measured on librosa's natural-log power mel of the audio (22,050 Hz, n_fft 1024, hop 256, 80 Slaney-scale bins
with Slaney area normalization, 0-8 kHz): `log(melspectrogram + TINY)`, in nats. A spectral peak is a
(bin, frame) that

- lies above the median level of the whole clip,
- is a strict local maximum across frequency (higher than bins k - 1 and k + 1), and
- stands at least `PROMINENCE_NATS` above the mean of bins k - 2 and k + 2 (so bins 0, 1, 78, 79 never peak).

The ratio is the share of peaks that belong to a run of at least `MIN_RUN_FRAMES` consecutive frames on the same
bin (8 frames = 93 ms): a held sine scores near 1, white noise and gliding tones near 0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.audio.io import read_audio
from engine.evaluation.metrics import MetricInputError, mono

SAMPLE_RATE = 22050
N_FFT = 1024
HOP_LENGTH = 256
N_MELS = 80
FMAX = 8000.0
TINY = 1e-10
"""Power added before the log, so digital silence stays finite (-23 nats)."""
PROMINENCE_NATS = 0.35
"""How far a peak must stand above the mean of its neighbours two bins away, in nats."""
MIN_RUN_FRAMES = 8
"""Consecutive frames on one bin that make a peak held (8 hops of 256 samples = 93 ms)."""


def librosa_logmel(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Natural-log power mel [shape=(80, frames)] in nats of `(samples,)` or `(channels, samples)` audio at
    `sample_rate` Hz (channels averaged, resampled to 22,050 Hz first); frames = samples // 256 + 1."""
    import librosa

    signal = mono(audio, sample_rate).astype(np.float32)
    power = librosa.feature.melspectrogram(y=signal, sr=SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP_LENGTH,
                                           n_mels=N_MELS, fmin=0.0, fmax=FMAX)
    return np.log(power.astype(np.float64) + TINY)


def spectral_peaks(logmel: np.ndarray) -> np.ndarray:
    """Boolean [shape=(n_mels, frames)]: which (bin, frame) of a log-mel in nats is a spectral peak."""
    level = _checked(logmel)
    core = level[2:-2]
    above_median = core > np.median(level)
    local_max = (core > level[1:-3]) & (core > level[3:-1])
    prominent = core - 0.5 * (level[:-4] + level[4:]) >= PROMINENCE_NATS
    peaks = np.zeros(level.shape, dtype=bool)
    peaks[2:-2] = above_median & local_max & prominent
    return peaks


def held_partial_ratio_logmel(logmel: np.ndarray) -> float:
    """Share of the spectral peaks of a log-mel [shape=(n_mels, frames)] in nats that belong to a run of at least
    `MIN_RUN_FRAMES` consecutive frames on one bin, in [0, 1]; NaN when the clip has no peak at all."""
    peaks = spectral_peaks(logmel)
    edges = np.diff(np.pad(peaks, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    starts = np.nonzero(edges == 1)[1]  # row-major order: the runs of each bin in turn, starts and ends paired
    ends = np.nonzero(edges == -1)[1]
    lengths = ends - starts
    if lengths.sum() == 0:
        return float("nan")
    return float(lengths[lengths >= MIN_RUN_FRAMES].sum() / lengths.sum())


def held_partial_ratio(audio: np.ndarray, sample_rate: int) -> float:
    """Held-partial ratio in [0, 1] of `(samples,)` or `(channels, samples)` float audio at `sample_rate` Hz."""
    return held_partial_ratio_logmel(librosa_logmel(audio, sample_rate))


def held_partial_ratio_wav(path: str | Path) -> float:
    """Held-partial ratio in [0, 1] of an audio file (WAV, AIFF or FLAC) at any sample rate."""
    audio, sample_rate = read_audio(path)
    return held_partial_ratio(audio, sample_rate)


def _checked(logmel: np.ndarray) -> np.ndarray:
    level = np.asarray(logmel, dtype=np.float64)
    if level.ndim != 2 or level.shape[0] < 5 or level.shape[1] < 1:
        raise MetricInputError(f"logmel: expected (n_mels >= 5, frames >= 1), got shape {level.shape}")
    if not np.isfinite(level).all():
        raise MetricInputError("logmel: contains NaN or infinite values; add a floor before taking the log")
    return level
