"""The vocoders by name: `load_vocoder` builds one, `DEFAULT_VOCODER` is what the built-in model uses.

Names: ``"hifigan"`` (HiFi-GAN V1 "universal" generator, `engine.audio.hifigan`), ``"griffinlim"`` (fast
Griffin-Lim with momentum, `engine.audio.griffinlim`) and ``"default"``. The default is Griffin-Lim: HiFi-GAN
scores a lower full-band MR-STFT distance, but Griffin-Lim keeps the loudness curve of the mel (intensity error
on the waveform about 1 dB² against 15-65 dB² for HiFi-GAN, whose universal weights were trained on speech), and
every control is judged on the output WAV (see docs/VOCODER.md, written by benchmarks/vocoder.py).
"""

from __future__ import annotations

import logging

import torch

from engine.audio.vocoder import Vocoder
from engine.errors import EngineError, ModelNotFoundError

logger = logging.getLogger(__name__)

VOCODER_NAMES: tuple[str, ...] = ("hifigan", "griffinlim")
# Chosen from the measured table in docs/VOCODER.md (benchmarks/vocoder.py): the intensity error on the WAV decides.
DEFAULT_VOCODER = "griffinlim"


class UnknownVocoderError(EngineError, ValueError):
    """`load_vocoder` was asked for a name it does not know; the message lists the known names."""


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
