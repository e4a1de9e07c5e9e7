"""Fast Griffin-Lim: phase retrieval with momentum (Perraudin, Balazs, Sondergaard, WASPAA 2013).

Two steps turn a log-mel [shape=(batch, n_mels, frames)] into a waveform [shape=(batch, frames * hop_length)]:

1. Invert the mel filterbank: the linear magnitude `s >= 0` [shape=(batch, n_fft // 2 + 1, frames)] that best
   explains `m = exp(logmel)` in least squares, min ||M s - m||^2 subject to s >= 0 (multiplicative updates of
   Lee & Seung, started from the clamped pseudo-inverse of `engine.audio.mel.mel_to_linear_magnitude`).
2. Retrieve a phase: with P1(c) = STFT(ISTFT(c)) (projection onto consistent spectrograms) and
   P2(c) = s * c / |c| (the target magnitude), iterate
       t_n = P1(P2(c_{n-1})),   c_n = t_n + alpha * (t_n - t_{n-1}),
   alpha = 0.99 in the paper; alpha = 0 is the classic algorithm (Griffin & Lim 1984).

STFT and ISTFT are the log-mel's own (`engine.audio.mel.stft`, `istft`), so frame i of the output has the
magnitude asked for frame i of the input. The start phase is drawn from a seeded generator: same input, same
output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engine.audio.mel import MelSpec, istft, mel_filterbank, mel_to_linear_magnitude, stft
from engine.audio.vocoder import Vocoder


@dataclass(frozen=True)
class GriffinLimConfig:
    n_iter: int = 64            # phase-retrieval iterations
    momentum: float = 0.99      # alpha of fast Griffin-Lim; 0 gives the classic algorithm
    nnls_iter: int = 100        # multiplicative-update iterations of the mel inversion; 0 keeps the clamped pinv
    seed: int = 0               # seed of the random start phase

    def __post_init__(self) -> None:
        if self.n_iter < 0 or self.nnls_iter < 0:
            raise ValueError(f"GriffinLimConfig: n_iter ({self.n_iter}) and nnls_iter ({self.nnls_iter}) must be >= 0")
        if not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"GriffinLimConfig: momentum must be in [0, 1), got {self.momentum}")


def mel_to_magnitude_nnls(logmel: torch.Tensor, spec: MelSpec, *, n_iter: int = 100) -> torch.Tensor:
    """Non-negative least-squares inversion of the mel filterbank.

    [shape=(..., n_mels, frames)] natural-log mel -> [shape=(..., n_fft // 2 + 1, frames)] linear magnitude.
    Bins above `spec.fmax` (no filter covers them) come out as 0.
    """
    fb = torch.as_tensor(mel_filterbank(spec), device=logmel.device, dtype=logmel.dtype)
    target = torch.exp(logmel)
    magnitude = mel_to_linear_magnitude(logmel, spec)
    if n_iter == 0:
        return magnitude
    tiny = torch.finfo(logmel.dtype).tiny
    numerator = torch.matmul(fb.T, target)                          # M^T m, >= 0
    gram = fb.T @ fb                                                # M^T M, (bins, bins)
    # Multiplicative updates keep zeros at zero: start every bin some filter covers from a positive value.
    covered = (fb.sum(dim=0) > 0).to(logmel.dtype)[:, None]
    magnitude = torch.clamp(magnitude, min=1e-6 * target.amin(dim=-2, keepdim=True)) * covered
    for _ in range(n_iter):
        magnitude = magnitude * numerator / torch.clamp(torch.matmul(gram, magnitude), min=tiny)
    return magnitude


def griffin_lim(magnitude: torch.Tensor, spec: MelSpec, *, n_iter: int = 64, momentum: float = 0.99,
                seed: int = 0) -> torch.Tensor:
    """Waveform whose STFT magnitude approaches `magnitude`.

    [shape=(batch, n_fft // 2 + 1, frames)] linear magnitude -> [shape=(batch, frames * hop_length)] samples.
    """
    generator = torch.Generator(device="cpu").manual_seed(seed)
    phase = torch.rand(magnitude.shape, generator=generator, dtype=torch.float64).to(magnitude.device)
    angles = torch.polar(torch.ones_like(magnitude), (2 * np.pi * phase).to(magnitude.dtype))
    previous = torch.zeros_like(angles)
    tiny = 1e-16
    for _ in range(n_iter):
        rebuilt = stft(istft(magnitude * angles, spec), spec)                     # t_n = P1(P2(c_{n-1}))
        accelerated = rebuilt + momentum * (rebuilt - previous)                   # c_n
        angles = accelerated / torch.clamp(accelerated.abs(), min=tiny)
        previous = rebuilt
    return istft(magnitude * angles, spec)


class GriffinLimVocoder(Vocoder):
    """No weights, any device; quality limited by the mel inversion and phase retrieval (see docs/VOCODER.md)."""

    name = "griffinlim"

    def __init__(self, config: GriffinLimConfig = GriffinLimConfig(), spec: MelSpec = MelSpec(),
                 device: str | torch.device = "cpu") -> None:
        self.config = config
        self.spec = spec
        self._device = torch.device(device)

    @property
    def device(self) -> torch.device:
        return self._device

    def _synthesize(self, logmel: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            magnitude = mel_to_magnitude_nnls(logmel, self.spec, n_iter=self.config.nnls_iter)
            return griffin_lim(magnitude, self.spec, n_iter=self.config.n_iter, momentum=self.config.momentum,
                               seed=self.config.seed)

