"""What the optimizer needs from any diffusion model.

A model maps a latent x_t of shape `(batch, *latent_shape(seconds))` and a timestep to a prediction
(`prediction_type`: "epsilon", "v_prediction" or "sample"), decodes latents to the feature domain (log-mel at
`mel` settings, `(batch, n_mels, frames)`) differentiably, decodes them to audio, and encodes reference audio
into the feature domain. The sampling loop, the features and the controls only talk to this interface.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import torch

from engine.audio.mel import MelSpec
from engine.precision import autocast, resolve_precision

if TYPE_CHECKING:
    from engine.models.loudness import LoudnessRange


@dataclass(frozen=True)
class ModelInfo:
    """What a caller or a sidecar JSON needs to know about a model."""

    name: str
    sample_rate: int
    audio_channels: int
    prediction_type: str
    trained: bool
    conditioning: str  # "tags" or "text"
    description: str = ""


@dataclass
class Conditioning:
    """Conditioning for one batch: `cond` and `uncond` are model-specific (tensors or dicts of tensors).

    `uncond` is None when guidance is off (scale 1 or 0). Computed once, without gradients.
    """

    cond: Any
    uncond: Any | None
    guidance_scale: float


class DiffusionModel(abc.ABC):
    """Interface every model (the built-in mel model, the diffusers adapters) implements."""

    info: ModelInfo
    mel: MelSpec
    """Feature-domain settings: features and controls are computed on log-mel frames at these settings."""
    latent_frames_are_mel_frames: bool = False
    """True when the latent's last axis is the mel's frame grid (frame i of one is frame i of the other), so
    frames of the latent can be held to a reference's (`engine.sampling.anchor`)."""

    # ---- shapes and time
    @abc.abstractmethod
    def latent_shape(self, seconds: float) -> tuple[int, ...]:
        """Shape of one latent (no batch axis) for a clip of `seconds`."""

    def feature_frames(self, seconds: float) -> int:
        """Number of log-mel frames the decoded clip of `seconds` has."""
        return self.mel.frames_for(seconds)

    # ---- diffusion
    @abc.abstractmethod
    def scheduler_config(self) -> dict[str, Any]:
        """The noise schedule the model was trained with, as diffusers scheduler kwargs."""

    def make_scheduler(self, name: str, steps: int):
        """A diffusers scheduler `name` set to `steps` steps for this model's noise schedule.

        Models whose sampling needs another scheduler family (e.g. sigma-based EDM schedulers) override this.
        """
        from engine.models.schedulers import build_scheduler

        return build_scheduler(name, self.scheduler_config(), steps)

    @abc.abstractmethod
    def denoise(self, x_t: torch.Tensor, t: torch.Tensor, cond: Any) -> torch.Tensor:
        """Raw model output for latents `x_t` `(batch, *latent)` at integer timesteps `t` `(batch,)`."""

    @abc.abstractmethod
    def condition(self, *, tags: Sequence[str] = (), prompt: str | None = None, guidance_scale: float = 1.0,
                  batch: int = 1) -> Conditioning:
        """Build conditioning for a batch; tags for tag models, a prompt for text models."""

    def guided(self, x_t: torch.Tensor, t: torch.Tensor, conditioning: Conditioning) -> torch.Tensor:
        """Classifier-free guidance: uncond + s * (cond - uncond), one batched model call, run in
        `compute_dtype`; the prediction comes back in `x_t`'s dtype."""
        with autocast(x_t.device, self.compute_dtype):
            if conditioning.uncond is None:
                return self.denoise(x_t, t, conditioning.cond).to(x_t.dtype)
            both = self.denoise(torch.cat([x_t, x_t]), torch.cat([t, t]),
                                _concat(conditioning.uncond, conditioning.cond))
        uncond, cond = both.to(x_t.dtype).chunk(2)
        return uncond + conditioning.guidance_scale * (cond - uncond)

    @property
    def compute_dtype(self) -> torch.dtype:
        """The dtype the denoiser runs in (`engine/precision.py`): chosen once per model, by
        `use_precision` or else by the environment and the hardware."""
        if getattr(self, "_compute_dtype", None) is None:
            self._compute_dtype = resolve_precision(self.device)
        return self._compute_dtype

    @compute_dtype.setter
    def compute_dtype(self, dtype: torch.dtype) -> None:
        self._compute_dtype = dtype

    def use_precision(self, preference: str) -> None:
        """Run the denoiser in "fp32", "bf16" or the "auto" choice from now on."""
        self._compute_dtype = resolve_precision(self.device, preference)

    def loudness_range(self) -> "LoudnessRange":
        """Frame levels (dB) this model's music reaches; intensity targets outside are split into music and gain
        (`engine/models/loudness.py`). Models with a measured range override this."""
        from engine.models.loudness import DEFAULT_RANGE

        return DEFAULT_RANGE

    # ---- decoding and encoding
    @abc.abstractmethod
    def decode_mel(self, latent: torch.Tensor) -> torch.Tensor:
        """Differentiable: latent `(batch, *latent)` -> natural-log mel `(batch, n_mels, frames)`."""

    @abc.abstractmethod
    def decode_audio(self, latent: torch.Tensor) -> torch.Tensor:
        """Latent -> waveform `(batch, channels, samples)` at `info.sample_rate`, in [-1, 1]."""

    @abc.abstractmethod
    def audio_to_mel(self, audio: torch.Tensor, sample_rate: int) -> torch.Tensor:
        """Reference waveform `(batch, channels, samples)` -> feature-domain log-mel `(batch, n_mels, frames)`."""

    def encode_audio(self, audio: torch.Tensor, sample_rate: int) -> torch.Tensor:
        """Waveform -> clean latent (used by masking baselines). Models without an encoder raise."""
        raise NotImplementedError(f"{self.info.name} has no audio encoder")

    # ---- placement
    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> "DiffusionModel":
        """Move the model's modules; subclasses with more modules extend this."""
        raise NotImplementedError

    @property
    def device(self) -> torch.device:
        raise NotImplementedError

    @property
    def dtype(self) -> torch.dtype:
        raise NotImplementedError


def _concat(a: Any, b: Any) -> Any:
    """Concatenate two conditionings along the batch axis (tensors, dicts or tuples of tensors)."""
    if isinstance(a, torch.Tensor):
        return torch.cat([a, b])
    if isinstance(a, dict):
        return {k: _concat(a[k], b[k]) for k in a}
    if isinstance(a, (tuple, list)):
        return type(a)(_concat(x, y) for x, y in zip(a, b))
    if a is None:
        return None
    raise TypeError(f"cannot batch conditioning of type {type(a).__name__}")
