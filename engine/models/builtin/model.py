"""The built-in model: a tag-conditioned v-prediction diffusion model on normalized log-mel, plus a vocoder.

Latent = log-mel normalized per bin, `(batch, n_mels, frames)`, frames rounded up to the network's frame multiple
(the decoded clip is trimmed to the requested seconds when written). `decode_mel` undoes the normalization (exact,
differentiable); `decode_audio` runs the vocoder.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from engine.audio.mel import MelSpec, log_mel
from engine.audio.resample import resample, to_mono
from engine.errors import JobError
from engine.models.base import Conditioning, DiffusionModel, ModelInfo
from engine.models.builtin.network import TINY, MelUNet, NetworkConfig
from engine.models.builtin.schedule import COSINE_SCHEDULE
from engine.models.builtin.tags import TAGS
from engine.models.builtin.weights import BuiltinWeights, load_weights, packaged_weights_path
from engine.models.loudness import LoudnessRange, range_from_stats

logger = logging.getLogger(__name__)

UNTRAINED_WARNING = ("THE BUILT-IN MODEL HAS RANDOM WEIGHTS (no trained weights found): the output is noise-like "
                     "and only shows the control path working.")


class BuiltinModel(DiffusionModel):
    latent_frames_are_mel_frames = True  # the latent is the normalized log-mel itself

    def __init__(self, network: MelUNet, mel_mean: torch.Tensor, mel_std: torch.Tensor, *,
                 tags: Sequence[str] = TAGS, schedule: dict[str, Any] | None = None, trained: bool,
                 name: str = "builtin", vocoder: str = "default", training: dict[str, Any] | None = None):
        self.network = network.eval().requires_grad_(False)
        self.mel = MelSpec()
        self.tags = tuple(tags)
        self.schedule = dict(schedule or COSINE_SCHEDULE)
        self.training = dict(training or {})
        self._mean = mel_mean.float().view(1, -1, 1)
        self._std = mel_std.float().view(1, -1, 1)
        self._vocoder_name = vocoder
        self._vocoder = None
        self.info = ModelInfo(name=name, sample_rate=self.mel.sample_rate, audio_channels=1,
                              prediction_type=self.schedule["prediction_type"], trained=trained,
                              conditioning="tags",
                              description=f"built-in mel diffusion model, {self.parameter_count() / 1e6:.1f}M "
                                          f"parameters, {'trained' if trained else 'RANDOM WEIGHTS'}")

    def loudness_range(self) -> LoudnessRange:
        """Measured on the held-out corpus the shipped weights learned from (`weights/data_stats.json`)."""
        return range_from_stats(packaged_weights_path().parent / "data_stats.json")

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.network.parameters())

    # ---- shapes
    def latent_shape(self, seconds: float) -> tuple[int, ...]:
        multiple = self.network.config.frame_multiple
        frames = math.ceil(math.ceil(seconds * self.mel.frame_rate - 1e-9) / multiple) * multiple
        return (self.mel.n_mels, frames)

    def feature_frames(self, seconds: float) -> int:
        return self.latent_shape(seconds)[-1]

    # ---- diffusion
    def scheduler_config(self) -> dict[str, Any]:
        return dict(self.schedule)

    def denoise(self, x_t: torch.Tensor, t: torch.Tensor, cond: Any) -> torch.Tensor:
        return self.network(x_t, t, cond)

    def tag_vector(self, tags: Sequence[str]) -> torch.Tensor:
        """Multi-hot `(n_tags,)`; raises JobError naming unknown tags and listing the vocabulary."""
        index = {tag: i for i, tag in enumerate(self.tags)}
        unknown = [t for t in tags if t not in index]
        if unknown:
            raise JobError(f"tags: unknown tag(s) {', '.join(unknown)}; the built-in model knows "
                           f"{', '.join(self.tags)}")
        vector = torch.zeros(len(self.tags))
        for tag in tags:
            vector[index[tag]] = 1.0
        return vector

    def condition(self, *, tags: Sequence[str] = (), prompt: str | None = None, guidance_scale: float = 1.0,
                  batch: int = 1) -> Conditioning:
        words = list(tags)
        if prompt:
            words += [w.strip(",.;").lower() for w in prompt.split() if w.strip(",.;").lower() in self.tags]
        vector = self.tag_vector(words).to(self.device, self.dtype)
        cond = vector.expand(batch, -1).clone()
        use_guidance = bool(words) and guidance_scale not in (0.0, 1.0)
        uncond = torch.zeros_like(cond) if use_guidance else None
        return Conditioning(cond=cond, uncond=uncond, guidance_scale=guidance_scale)

    # ---- decoding and encoding
    def decode_mel(self, latent: torch.Tensor) -> torch.Tensor:
        return latent * self._std.to(latent) + self._mean.to(latent)

    def vocoder(self):
        if self._vocoder is None:
            from engine.audio.vocoders import load_vocoder

            self._vocoder = load_vocoder(self._vocoder_name, device=self.device)
        return self._vocoder

    def decode_audio(self, latent: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            audio = self.vocoder()(self.decode_mel(latent).float())
        return audio.clamp(-1, 1).unsqueeze(1)

    def audio_to_mel(self, audio: torch.Tensor, sample_rate: int) -> torch.Tensor:
        mono = to_mono(audio)
        if sample_rate != self.mel.sample_rate:
            mono = resample(mono, sample_rate, self.mel.sample_rate)
        return log_mel(mono.to(self.device, self.dtype), self.mel)

    def encode_mel(self, mel: torch.Tensor) -> torch.Tensor:
        """Log-mel `(batch, n_mels, frames)` in nats -> normalized latent; the inverse of `decode_mel`."""
        return (mel - self._mean.to(mel)) / self._std.to(mel)

    def encode_audio(self, audio: torch.Tensor, sample_rate: int) -> torch.Tensor:
        return self.encode_mel(self.audio_to_mel(audio, sample_rate))

    # ---- placement
    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> "BuiltinModel":
        self.network.to(device=device, dtype=dtype)
        self._vocoder = None
        return self

    @property
    def device(self) -> torch.device:
        return next(self.network.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.network.parameters()).dtype


def from_weights(weights: BuiltinWeights, *, name: str = "builtin", vocoder: str = "default") -> BuiltinModel:
    network = MelUNet(weights.network_config)
    network.load_state_dict(weights.state_dict)
    return BuiltinModel(network, weights.mel_mean, weights.mel_std, tags=weights.tags, schedule=weights.schedule,
                        trained=bool(weights.training.get("trained", False)), name=name, vocoder=vocoder,
                        training=weights.training)


def random_model(config: NetworkConfig = NetworkConfig(n_tags=len(TAGS)), *, seed: int = 0, name: str,
                 vocoder: str = "griffinlim") -> BuiltinModel:
    """The built-in architecture with seeded random weights (tests, and the fallback before training).

    Zero-initialized output layers are re-drawn so the untrained network still depends on its input.
    """
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    network = MelUNet(config)
    for module in network.modules():
        if isinstance(module, (torch.nn.Conv1d, torch.nn.Conv2d)) and not module.weight.abs().sum():
            torch.nn.init.normal_(module.weight, std=0.02)
    torch.random.set_rng_state(generator_state)
    mean = torch.full((config.n_mels,), -5.0)
    std = torch.full((config.n_mels,), 2.0)
    return BuiltinModel(network, mean, std, trained=False, name=name, vocoder=vocoder)


def load_builtin(*, tiny: bool = False, weights_path=None) -> BuiltinModel:
    """The shipped model; `tiny=True` gives the tiny random-weight model used by tests and quick checks."""
    if tiny:
        return random_model(NetworkConfig(**{**TINY.to_dict(), "n_tags": len(TAGS)}), name="builtin-tiny")
    if weights_path is not None:  # a file the caller named: missing is an error, not a silent fallback
        return from_weights(load_weights(Path(weights_path)))
    path = packaged_weights_path()
    if path.is_file():
        return from_weights(load_weights(path))
    logger.warning(UNTRAINED_WARNING)
    return random_model(name="builtin")
