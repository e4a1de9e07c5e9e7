"""FD-mel: a Fréchet distance between two sets of audio clips on a fixed embedding the project owns.

No pretrained audio embedding (VGGish, CLAP, PANNs) runs offline here, so this is not FAD and is never called
that. Each clip is cut into windows (`WINDOW_SECONDS`, hop `HOP_SECONDS`); each window becomes one
`EMBEDDING_DIM`-dimensional vector of statistics of the project's own features:

- log-mel energy in 16 bands (the 80 mel bins averaged in groups of 5): mean over the window (16) and standard
  deviation over the window (16), in nats;
- chroma (`engine.features.chroma`), averaged over the window (12);
- onset strength (mean over bins of the positive frame-to-frame log-mel change): mean and standard deviation (2).

The Fréchet distance between Gaussians fitted to the two sets of window vectors is
|mu_a - mu_b|^2 + tr(C_a + C_b - 2 (C_a C_b)^(1/2)), with `ridge` added to both covariances' diagonals because
small sets give rank-deficient covariances. Values are comparable only between runs with the same window settings.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.linalg
import torch

from engine.audio.mel import MelSpec
from engine.evaluation.metrics import SPEC, MetricInputError, audio_logmel
from engine.features.chroma import chroma

WINDOW_SECONDS = 1.0
HOP_SECONDS = 0.5
BANDS = 16
EMBEDDING_DIM = 2 * BANDS + 12 + 2


def frame_features(logmel: torch.Tensor, spec: MelSpec = SPEC) -> np.ndarray:
    """Per-frame features `(frames, BANDS + 12 + 1)`: band log-energies, chroma, onset strength."""
    mel = logmel.double()
    n_mels, frames = mel.shape
    bands = mel[: n_mels - n_mels % BANDS].reshape(BANDS, n_mels // BANDS, frames).mean(dim=1)
    with torch.no_grad():
        pitch = chroma(mel, spec)
    onset = torch.cat([torch.zeros(1, dtype=mel.dtype), torch.relu(torch.diff(mel, dim=-1)).mean(dim=0)])
    return torch.cat([bands, pitch, onset[None]], dim=0).T.numpy()


def embed(audio: np.ndarray, sample_rate: int, *, spec: MelSpec = SPEC, window_seconds: float = WINDOW_SECONDS,
          hop_seconds: float = HOP_SECONDS) -> np.ndarray:
    """Window embeddings `(windows, EMBEDDING_DIM)` of one clip (at least one window)."""
    features = frame_features(audio_logmel(audio, sample_rate, spec), spec)
    width = max(2, int(round(window_seconds * spec.frame_rate)))
    hop = max(1, int(round(hop_seconds * spec.frame_rate)))
    if features.shape[0] < width:
        raise MetricInputError(f"audio: {features.shape[0]} frames is shorter than one FD-mel window ({width})")
    rows = []
    for start in range(0, features.shape[0] - width + 1, hop):
        window = features[start:start + width]
        band, pitch, onset = window[:, :BANDS], window[:, BANDS:BANDS + 12], window[:, -1]
        rows.append(np.concatenate([band.mean(0), band.std(0), pitch.mean(0), [onset.mean(), onset.std()]]))
    return np.asarray(rows)


def embed_set(clips: Sequence[np.ndarray], sample_rate: int, **kwargs) -> np.ndarray:
    """Window embeddings of every clip of a set, stacked `(windows, EMBEDDING_DIM)`."""
    if len(clips) == 0:
        raise MetricInputError("FD-mel needs at least one clip per set")
    return np.concatenate([embed(clip, sample_rate, **kwargs) for clip in clips])


def frechet_distance(a: np.ndarray, b: np.ndarray, *, ridge: float = 1e-6) -> float:
    """Fréchet distance between Gaussians fitted to the rows of `a` `(n, d)` and `b` `(m, d)` (n, m >= 2)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise MetricInputError(f"frechet_distance: need two (n >= 2, d) arrays of equal d, got {a.shape} and "
                               f"{b.shape}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    eye = ridge * np.eye(a.shape[1])
    cov_a, cov_b = np.cov(a, rowvar=False) + eye, np.cov(b, rowvar=False) + eye
    root = scipy.linalg.sqrtm(cov_a @ cov_b)
    root = np.real(root)
    distance = float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2.0 * root))
    return max(distance, 0.0)


def fd_mel(clips_a: Sequence[np.ndarray], clips_b: Sequence[np.ndarray], sample_rate: int, **kwargs) -> float:
    """FD-mel between two sets of clips `(samples,)` or `(channels, samples)` at `sample_rate`."""
    return frechet_distance(embed_set(clips_a, sample_rate, **kwargs), embed_set(clips_b, sample_rate, **kwargs))
