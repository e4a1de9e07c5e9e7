"""Stable Audio Open through diffusers: StableAudioDiTModel on AutoencoderOobleck latents, T5 text, 44.1 kHz stereo.

Latent: `(batch, 64, frames)`, one frame per 2048 samples (the VAE's hop), i.e. ~21.5 frames per second; the
decoded clip is stereo at the VAE's sampling rate. The length generated is the requested one rounded up to a latent
frame, with the model's seconds_start / seconds_total conditioning set to 0 and that length (the pipeline instead
always generates its full 47.5 s window and crops).

Noise schedule. The model is a v-objective model on the cosine schedule: x_t = cos(pi/2 tau) x_0 + sin(pi/2 tau) eps,
target v = cos(pi/2 tau) eps - sin(pi/2 tau) x_0, and the DiT takes tau in [0, 1] as its timestep. The pipeline's
CosineDPMSolverMultistepScheduler writes the same process in sigma form (sigma = tan(pi/2 tau), input scaled by
1/sqrt(sigma^2 + 1), timestep atan(sigma) * 2/pi), and always adds SDE noise from a Brownian tree. Here the schedule
is given to the engine's own schedulers as 1000 discrete steps (`v_diffusion_betas`: alpha_bar_i = cos^2(pi/2 tau_i),
tau_i = (i + 1)/1000 * tau_max, with sigma_max = tan(pi/2 tau_max) = 500 as in the pipeline's scheduler config), so
DDIM (eta 0), DDPM and DPM-Solver++ run on it deterministically and `denoise` maps each integer step i back to tau_i.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from engine.audio.mel import MelSpec, log_mel
from engine.audio.resample import resample, to_mono
from engine.errors import JobError
from engine.models.adapters.common import (DiffusersAdapter, Embeddings, PromptEncoder, checkpoint_each,
                                          mel_for_rate)
from engine.models.base import ModelInfo

STABLE_AUDIO_MEL = MelSpec(sample_rate=44100, n_fft=2048, hop_length=512, win_length=2048, n_mels=128, fmin=0.0,
                           fmax=11025.0)
"""Feature domain at 44.1 kHz: 11.6 ms hop (as the built-in model's 256 samples at 22.05 kHz), 128 bins to 11 kHz
(= `mel_for_rate(44100)`)."""

TRAIN_STEPS = 1000


def v_diffusion_taus(sigma_max: float = 500.0, steps: int = TRAIN_STEPS) -> np.ndarray:
    """Continuous time tau_i in (0, tau_max] of each discrete step i, `(steps,)`, float64."""
    tau_max = 2.0 / math.pi * math.atan(sigma_max)
    return (np.arange(steps) + 1) / steps * tau_max


def v_diffusion_betas(sigma_max: float = 500.0, steps: int = TRAIN_STEPS) -> np.ndarray:
    """Discrete betas whose cumulative product is alpha_bar_i = cos^2(pi/2 tau_i), `(steps,)`, float64."""
    alpha_bar = np.cos(np.pi / 2 * v_diffusion_taus(sigma_max, steps)) ** 2
    return 1.0 - alpha_bar / np.concatenate([[1.0], alpha_bar[:-1]])


class StableAudioTextEncoder:
    """The pipeline's T5 tokenizer and encoder: prompt -> {"text": (1, tokens, d_model), "mask": (1, tokens)}."""

    def __init__(self, tokenizer, text_encoder: nn.Module):
        self.tokenizer = tokenizer
        self.text_encoder = text_encoder.eval().requires_grad_(False)

    def to(self, device: torch.device | str, dtype: torch.dtype) -> None:
        """Device only: the encoder keeps the dtype it was loaded in (T5 keeps some layers in float32)."""
        self.text_encoder.to(device=device)

    @torch.no_grad()
    def __call__(self, prompt: str, *, negative: bool) -> tuple[Embeddings, Embeddings | None]:
        device = next(self.text_encoder.parameters()).device
        tokens = self.tokenizer([prompt], padding="max_length", max_length=self.tokenizer.model_max_length,
                                truncation=True, return_tensors="pt")
        ids, mask = tokens.input_ids.to(device), tokens.attention_mask.to(device)
        hidden = self.text_encoder(ids, attention_mask=mask)[0]
        # The pipeline's unconditional branch without a negative prompt is all zeros: no second encoding.
        return {"text": hidden.float(), "mask": mask}, None


class StableAudioAdapter(DiffusersAdapter):
    """DITTO-ready Stable Audio: the engine samples, this adapter denoises, decodes and encodes."""

    zero_unconditional = True

    def __init__(self, transformer: nn.Module, vae: nn.Module, projection_model: nn.Module, *,
                 prompt_encoder: PromptEncoder | None = None, mel: MelSpec | None = None,
                 compute_dtype: torch.dtype = torch.float32, sigma_max: float = 500.0, checkpoint_decode: bool = True,
                 name: str = "stable-audio-open", trained: bool = True, source: str = ""):
        sample_rate = int(vae.config.sampling_rate)
        mel = mel or (STABLE_AUDIO_MEL if sample_rate == STABLE_AUDIO_MEL.sample_rate else mel_for_rate(sample_rate))
        if mel.sample_rate != sample_rate:
            raise ValueError(f"mel.sample_rate {mel.sample_rate} differs from the VAE's sampling rate {sample_rate}")
        if transformer.config.in_channels != vae.config.decoder_input_channels:
            raise ValueError(f"transformer in_channels {transformer.config.in_channels} != VAE latent channels "
                             f"{vae.config.decoder_input_channels}")
        self.transformer, self.vae, self.projection_model = transformer, vae, projection_model
        self._setup({"transformer": transformer, "vae": vae, "projection_model": projection_model},
                    prompt_encoder=prompt_encoder, compute_dtype=compute_dtype, checkpoint_decode=checkpoint_decode,
                    mel=mel)
        self.hop = int(np.prod(vae.config.downsampling_ratios))
        self.sigma_max = float(sigma_max)
        self._taus = torch.from_numpy(v_diffusion_taus(self.sigma_max)).float()
        self._rotary_dim = transformer.config.attention_head_dim // 2
        checkpoint_each(vae.decoder.block, lambda: self.checkpoint_decode)
        self.info = ModelInfo(
            name=name, sample_rate=sample_rate, audio_channels=int(vae.config.audio_channels),
            prediction_type="v_prediction", trained=trained, conditioning="text",
            description=f"Stable Audio (DiT + Oobleck VAE, {sample_rate} Hz, {vae.config.audio_channels} ch) via "
                        f"diffusers, {self.parameter_count() / 1e6:.1f}M parameters"
                        + ("" if trained else ", RANDOM WEIGHTS") + (f", from {source}" if source else ""))

    @classmethod
    def from_pipeline(cls, pipe, **kwargs) -> "StableAudioAdapter":
        """From a loaded `StableAudioPipeline`: its networks, its text encoder, its scheduler's sigma_max."""
        encoder = StableAudioTextEncoder(pipe.tokenizer, pipe.text_encoder) if pipe.text_encoder is not None else None
        kwargs.setdefault("sigma_max", float(pipe.scheduler.config.get("sigma_max", 500.0)))
        return cls(pipe.transformer, pipe.vae, pipe.projection_model, prompt_encoder=encoder, **kwargs)

    # ---- shapes
    @property
    def max_seconds(self) -> float:
        """The model's training window: `sample_size` latent frames (1024, ~47.55 s for the released model)."""
        return float(self.transformer.config.sample_size) * self.hop / self.info.sample_rate

    def latent_shape(self, seconds: float) -> tuple[int, ...]:
        if seconds > self.max_seconds + 1e-6:
            raise JobError(f"duration: {seconds:g} s is longer than {self.info.name}'s window of "
                           f"{self.max_seconds:.2f} s")
        frames = max(1, math.ceil(seconds * self.info.sample_rate / self.hop - 1e-9))
        return (int(self.vae.config.decoder_input_channels), frames)

    def feature_frames(self, seconds: float) -> int:
        return self.latent_shape(seconds)[-1] * self.hop // self.mel.hop_length

    # ---- diffusion
    def scheduler_config(self) -> dict[str, Any]:
        return {"num_train_timesteps": TRAIN_STEPS, "trained_betas": v_diffusion_betas(self.sigma_max).tolist(),
                "prediction_type": "v_prediction", "timestep_spacing": "trailing"}

    def prepare(self, embeddings: Embeddings) -> dict[str, torch.Tensor]:
        """T5 states -> projected text tokens (masked as the pipeline does) and a per-item switch for the seconds
        tokens (1 here; 0 in the all-zero unconditional branch)."""
        text = self.projection_model(text_hidden_states=self._cast(embeddings["text"])).text_hidden_states
        if "mask" in embeddings:
            text = text * embeddings["mask"].unsqueeze(-1).to(text.dtype)
        return {"text": text.float(), "seconds_on": torch.ones(text.shape[0], device=text.device)}

    def denoise(self, x_t: torch.Tensor, t: torch.Tensor, cond: Any) -> torch.Tensor:
        """v prediction for `x_t` `(batch, channels, frames)` at discrete steps `t` `(batch,)` (long)."""
        batch, frames = x_t.shape[0], x_t.shape[-1]
        tau = self._taus.to(x_t.device)[t.long()]
        seconds = torch.full((batch,), frames * self.hop / self.info.sample_rate, device=x_t.device)
        start = self.projection_model.start_number_conditioner(torch.zeros_like(seconds))
        end = self.projection_model.end_number_conditioner(seconds)
        on = cond["seconds_on"].view(batch, 1, 1).to(start.dtype)
        tokens = torch.cat([self._cast(cond["text"]), start * on, end * on], dim=1)
        global_states = torch.cat([start, end], dim=2)
        from diffusers.models.embeddings import get_1d_rotary_pos_embed

        rotary = get_1d_rotary_pos_embed(self._rotary_dim, frames + global_states.shape[1], use_real=True,
                                         repeat_interleave_real=False)
        rotary = tuple(r.to(x_t.device) for r in rotary)
        out = self.transformer(self._cast(x_t), tau.to(self.compute_dtype), encoder_hidden_states=tokens,
                               global_hidden_states=global_states, rotary_embedding=rotary, return_dict=False)[0]
        return out.float()

    # ---- decoding and encoding
    def _decode(self, latent: torch.Tensor) -> torch.Tensor:
        return self.vae.decode(self._cast(latent)).sample.float()

    def decode_mel(self, latent: torch.Tensor) -> torch.Tensor:
        """Differentiable: latent -> stereo audio (VAE, blocks checkpointed) -> mono -> log-mel
        `(batch, n_mels, frames)`."""
        return log_mel(to_mono(self._decode(latent)), self.mel)

    def decode_audio(self, latent: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self._decode(latent).clamp(-1, 1)

    def audio_to_mel(self, audio: torch.Tensor, sample_rate: int) -> torch.Tensor:
        mono = to_mono(audio.float())
        if sample_rate != self.info.sample_rate:
            mono = resample(mono, sample_rate, self.info.sample_rate)
        return log_mel(mono.to(self.device), self.mel)

    def encode_audio(self, audio: torch.Tensor, sample_rate: int) -> torch.Tensor:
        """Waveform `(batch, channels, samples)` -> the VAE posterior's mean `(batch, 64, frames)`, the latent of
        `samples / rate` seconds (the clip is zero-padded to a whole number of latent frames)."""
        audio = audio.float()
        if sample_rate != self.info.sample_rate:
            audio = resample(audio, sample_rate, self.info.sample_rate)
        channels = self.info.audio_channels
        if audio.shape[1] != channels:
            audio = audio.mean(dim=1, keepdim=True).expand(-1, channels, -1)
        frames = self.latent_shape(audio.shape[-1] / self.info.sample_rate)[-1]
        audio = torch.nn.functional.pad(audio, (0, frames * self.hop - audio.shape[-1]))
        with torch.no_grad():
            return self.vae.encode(self._cast(audio.to(self.device))).latent_dist.mode().float()


__all__: Sequence[str] = ("StableAudioAdapter", "StableAudioTextEncoder", "STABLE_AUDIO_MEL", "v_diffusion_betas",
                          "v_diffusion_taus")
