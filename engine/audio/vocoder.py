"""Vocoders turn the built-in model's log-mel back into audio, and `load_vocoder` picks one by name.

Every vocoder takes the log-mel of `engine.audio.mel.log_mel` with `MelSpec()` (22,050 Hz, hop 256, 80 bins,
natural log) [shape=(batch, n_mels, frames)] and returns a waveform [shape=(batch, frames * hop_length)] at
22,050 Hz, float32, on the vocoder's device.

Names: ``"hifigan"`` (HiFi-GAN V1 "universal" generator, `engine.audio.hifigan`), ``"griffinlim"`` (fast
Griffin-Lim with momentum, `engine.audio.griffinlim`) and ``"default"``. The default is Griffin-Lim: HiFi-GAN
scores a lower full-band MR-STFT distance, but Griffin-Lim keeps the loudness curve of the mel (intensity error
on the waveform about 1 dB² against 15-65 dB² for HiFi-GAN, whose universal weights were trained on speech), and
every control is judged on the output WAV (see docs/VOCODER.md, written by benchmarks/vocoder.py).
"""

from __future__ import annotations

import abc
import logging

import torch

from engine.audio.mel import MelSpec
from engine.errors import EngineError, ModelNotFoundError

logger = logging.getLogger(__name__)

VOCODER_NAMES: tuple[str, ...] = ("hifigan", "griffinlim")
# Chosen from the measured table in docs/VOCODER.md (benchmarks/vocoder.py): the intensity error on the WAV decides.
DEFAULT_VOCODER = "griffinlim"


class VocoderInputError(EngineError, ValueError):
    """A vocoder got a log-mel of the wrong rank, dtype, bin count or with non-finite values."""


class UnknownVocoderError(EngineError, ValueError):
    """`load_vocoder` was asked for a name it does not know; the message lists the known names."""


def validate_logmel(logmel: torch.Tensor, spec: MelSpec) -> None:
    """Raise `VocoderInputError` unless `logmel` is a finite float tensor of shape (batch, spec.n_mels, frames)."""
    if not isinstance(logmel, torch.Tensor):
        raise VocoderInputError(f"logmel: expected a torch.Tensor, got {type(logmel).__name__}")
    if not logmel.is_floating_point():
        raise VocoderInputError(f"logmel: expected a floating point tensor, got dtype {logmel.dtype}")
    if logmel.ndim != 3:
        raise VocoderInputError(
            f"logmel: expected shape (batch, n_mels, frames), got {tuple(logmel.shape)}; "
            "add a batch axis with logmel.unsqueeze(0)")
    if logmel.shape[1] != spec.n_mels:
        raise VocoderInputError(f"logmel: expected {spec.n_mels} mel bins on axis 1, got {logmel.shape[1]} "
                                f"(shape {tuple(logmel.shape)})")
    if logmel.shape[2] < 1:
        raise VocoderInputError(f"logmel: needs at least one frame, got shape {tuple(logmel.shape)}")
    if not torch.isfinite(logmel).all():
        raise VocoderInputError("logmel: contains NaN or infinite values")


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
        validate_logmel(logmel, self.spec)
        audio = self._synthesize(logmel.to(device=self.device, dtype=torch.float32))
        return audio[:, : logmel.shape[-1] * self.spec.hop_length]

    @abc.abstractmethod
    def _synthesize(self, logmel: torch.Tensor) -> torch.Tensor:
        """Validated float32 log-mel on `self.device` -> waveform (batch, >= frames * hop_length)."""


def load_vocoder(name: str = "default", device: str | torch.device = "cpu") -> Vocoder:
    """Build the vocoder called `name` ("hifigan", "griffinlim" or "default") on `device`.

    "default" resolves to `DEFAULT_VOCODER`; if that is HiFi-GAN and its weights are not installed, it logs a
    warning and returns Griffin-Lim instead. Asking for "hifigan" by name raises `ModelNotFoundError` in that case.
    """
    if not isinstance(name, str) or (name != "default" and name not in VOCODER_NAMES):
        raise UnknownVocoderError(
            f"vocoder: unknown name {name!r}; choose one of {', '.join(repr(n) for n in ('default',) + VOCODER_NAMES)}")
    resolved = DEFAULT_VOCODER if name == "default" else name
    if resolved == "griffinlim":
        from engine.audio.griffinlim import GriffinLimVocoder
        return GriffinLimVocoder(device=device)
    from engine.audio.hifigan import HifiGanVocoder
    try:
        return HifiGanVocoder.from_installed_weights(device=device)
    except ModelNotFoundError as error:
        if name != "default":
            raise
        logger.warning("vocoder: falling back to Griffin-Lim because HiFi-GAN is unavailable: %s", error)
        from engine.audio.griffinlim import GriffinLimVocoder
        return GriffinLimVocoder(device=device)
