"""Structure: MFCCs of log-mel frames (first coefficient dropped, normalized over time) and their self-similarity.

The self-similarity matrix is computed on frames average-pooled by `pool` (default 16 frames, about 0.19 s), and
maps cosine similarity to [0, 1]: 1 for identical timbre-and-harmony vectors, 0.5 for unrelated ones.
"""

from __future__ import annotations

import functools
import math

import torch
from torch.nn import functional as F

from engine.audio.mel import check_logmel


@functools.lru_cache(maxsize=8)
def _dct_matrix(n_mels: int, n_mfcc: int) -> torch.Tensor:
    """Orthonormal DCT-II, `(n_mfcc, n_mels)`."""
    n = torch.arange(n_mels, dtype=torch.float64)
    k = torch.arange(n_mfcc, dtype=torch.float64)[:, None]
    basis = torch.cos(math.pi / n_mels * (n + 0.5) * k) * math.sqrt(2.0 / n_mels)
    basis[0] /= math.sqrt(2.0)
    return basis


def mfcc(logmel: torch.Tensor, *, n_mfcc: int = 20) -> torch.Tensor:
    """MFCCs 1..n_mfcc-1 (0th dropped), normalized per coefficient over time. `(..., n_mels, frames)` ->
    `(..., n_mfcc - 1, frames)`."""
    check_logmel(logmel, logmel.shape[-2])
    dct = _dct_matrix(logmel.shape[-2], n_mfcc).to(logmel)
    coefficients = torch.matmul(dct, logmel)[..., 1:, :]
    mean = coefficients.mean(dim=-1, keepdim=True)
    std = coefficients.std(dim=-1, keepdim=True) + 1e-5
    return (coefficients - mean) / std


def pool_frames(x: torch.Tensor, pool: int) -> torch.Tensor:
    """Average over non-overlapping blocks of `pool` frames (the last partial block included). `(..., C, frames)`."""
    if pool <= 1:
        return x
    lead = x.shape[:-1]
    flat = x.reshape(-1, 1, x.shape[-1])
    pooled = F.avg_pool1d(flat, pool, stride=pool, ceil_mode=True)
    return pooled.reshape(*lead, pooled.shape[-1])


def self_similarity(logmel: torch.Tensor, *, pool: int = 16, n_mfcc: int = 20) -> torch.Tensor:
    """Self-similarity in [0, 1] [shape=(..., blocks, blocks)] of log-mel [shape=(..., n_mels, frames)]."""
    features = pool_frames(mfcc(logmel, n_mfcc=n_mfcc), pool)
    unit = features / (features.norm(dim=-2, keepdim=True) + 1e-6)
    cosine = torch.matmul(unit.transpose(-1, -2), unit)
    return 0.5 * (1.0 + cosine)
