"""What every vocoder is: log-mel of the built-in model in, waveform out (`Vocoder`), and the input check.

Every vocoder takes the log-mel of `engine.audio.mel.log_mel` with `MelSpec()` (22,050 Hz, hop 256, 80 bins,
natural log) [shape=(batch, n_mels, frames)] and returns a waveform [shape=(batch, frames * hop_length)] at
22,050 Hz, float32, on the vocoder's device. The vocoders themselves live in `engine.audio.griffinlim` and
`engine.audio.hifigan`; `engine.audio.vocoders` picks one by name.
"""

from __future__ import annotations

import abc

import torch

from engine.audio.mel import MelSpec, check_logmel
from engine.errors import EngineError


class VocoderInputError(EngineError, ValueError):
    """A vocoder got a log-mel of the wrong rank, dtype, bin count or with non-finite values."""


class Vocoder(abc.ABC):
    """Log-mel [shape=(batch, n_mels, frames)] -> waveform [shape=(batch, frames * hop_length)] at `sample_rate`."""

    name: str
    spec: MelSpec

    @property
    def sample_rate(self) -> int:
        return self.spec.sample_rate

    @property
    @abc.abstractmethod
    def device(self) -> torch.device:
        """Where the vocoder computes; inputs are moved here and outputs stay here."""

    def __call__(self, logmel: torch.Tensor) -> torch.Tensor:
        check_logmel(logmel, self.spec.n_mels, batched=True, error=VocoderInputError)
        audio = self._synthesize(logmel.to(device=self.device, dtype=torch.float32))
        return audio[:, : logmel.shape[-1] * self.spec.hop_length]

    @abc.abstractmethod
    def _synthesize(self, logmel: torch.Tensor) -> torch.Tensor:
        """Validated float32 log-mel on `self.device` -> waveform (batch, >= frames * hop_length)."""
