"""What AudioLDM2 and MusicLDM share: a UNet on AutoencoderKL latents of a log-mel image, and a HiFi-GAN vocoder.

The pipeline's chain is latent `(batch, channels, time, freq)` -> VAE decoder -> the model's own log-mel
`(batch, 1, mel_frames, model_in_dim)` -> SpeechT5HifiGan vocoder -> waveform at the vocoder's rate (16 kHz mono
for both released models; `hop = prod(upsample_rates)` samples per mel frame, 160 for them). The VAE halves the mel
axes `len(block_out_channels) - 1` times; the latent's time axis is also rounded up to what the UNet can halve.

Features are computed from the vocoder's waveform with the engine's own log-mel (`LDM_MEL`), so every control sees
the audio a producer gets. The schedule is the pipeline's (its scheduler_config.json: DDIM on scaled-linear betas).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from engine.audio.mel import MelSpec, log_mel
from engine.audio.resample import resample, to_mono
from engine.models.adapters.common import DiffusersAdapter, PromptEncoder, checkpoint_each, mel_for_rate
from engine.models.base import ModelInfo
from engine.models.schedulers import diffusers_schedule

LDM_MEL = MelSpec(sample_rate=16000, n_fft=1024, hop_length=160, win_length=1024, n_mels=80, fmin=0.0, fmax=8000.0)
"""Feature domain at 16 kHz: 10 ms hop (one frame per vocoder input frame), 80 bins to Nyquist."""



def vocoder_mel(vocoder_config) -> MelSpec:
    """The log-mel a SpeechT5HifiGan vocoder takes: its rate, hop = prod(upsample_rates), `model_in_dim` bins, up to
    Nyquist, window the power of two at or above 4 hops. For the released AudioLDM / MusicLDM vocoders this is
    16 kHz, n_fft 1024, hop 160, 64 bins, 0-8 kHz: the mel (magnitude, natural log, floor 1e-5) their VAEs were
    trained on. Used only by `encode_audio`, to put reference audio into latent space."""
    rate, hop = int(vocoder_config.sampling_rate), int(np.prod(vocoder_config.upsample_rates))
    n_fft = 2 ** math.ceil(math.log2(4 * hop))
    return MelSpec(sample_rate=rate, n_fft=n_fft, hop_length=hop, win_length=n_fft,
                   n_mels=int(vocoder_config.model_in_dim), fmin=0.0, fmax=rate / 2)


class MelLatentAdapter(DiffusersAdapter):
    """Shared decoding, encoding and shapes; subclasses define conditioning and `denoise`."""

    family = "latent diffusion"
    """What `info.description` calls the model (subclasses name theirs)."""

    def __init__(self, unet: nn.Module, vae: nn.Module, vocoder: nn.Module, schedule: dict[str, Any], *,
                 prompt_encoder: PromptEncoder | None = None, mel: MelSpec | None = None,
                 compute_dtype: torch.dtype = torch.float32, checkpoint_decode: bool = True, name: str,
                 trained: bool = True, source: str = ""):
        self.unet, self.vae, self.vocoder = unet, vae, vocoder
        self.sample_rate = int(vocoder.config.sampling_rate)
        self.vocoder_hop = int(np.prod(vocoder.config.upsample_rates))
        self.vae_scale = 2 ** (len(vae.config.block_out_channels) - 1)
        self.unet_multiple = 2 ** (len(unet.config.block_out_channels) - 1)
        self.model_mel_bins = int(vocoder.config.model_in_dim)
        self.schedule = diffusers_schedule(schedule)
        mel = mel or (LDM_MEL if self.sample_rate == LDM_MEL.sample_rate else mel_for_rate(self.sample_rate))
        if mel.sample_rate != self.sample_rate:
            raise ValueError(f"mel.sample_rate {mel.sample_rate} differs from the vocoder's {self.sample_rate} Hz")
        self.model_mel = vocoder_mel(vocoder.config)
        self._setup({"unet": unet, "vae": vae, "vocoder": vocoder}, prompt_encoder=prompt_encoder,
                    compute_dtype=compute_dtype, checkpoint_decode=checkpoint_decode, mel=mel)
        enabled = lambda: self.checkpoint_decode  # noqa: E731
        checkpoint_each([vae.decoder.mid_block, *vae.decoder.up_blocks], enabled)
        checkpoint_each(vocoder.resblocks, enabled)
        self.info = ModelInfo(
            name=name, sample_rate=self.sample_rate, audio_channels=1,
            prediction_type=self.schedule.get("prediction_type", "epsilon"), trained=trained, conditioning="text",
            description=f"{self.family} (UNet + mel VAE + HiFi-GAN, {self.sample_rate} Hz mono) via diffusers, "
                        f"{self.parameter_count() / 1e6:.1f}M parameters" + ("" if trained else ", RANDOM WEIGHTS")
                        + (f", from {source}" if source else ""))

    # ---- shapes
    def latent_shape(self, seconds: float) -> tuple[int, ...]:
        mel_frames = math.ceil(seconds * self.sample_rate / self.vocoder_hop - 1e-9)
        frames = math.ceil(mel_frames / (self.vae_scale * self.unet_multiple)) * self.unet_multiple
        return (int(self.vae.config.latent_channels), max(frames, self.unet_multiple),
                self.model_mel_bins // self.vae_scale)

    def feature_frames(self, seconds: float) -> int:
        return self.latent_shape(seconds)[1] * self.vae_scale * self.vocoder_hop // self.mel.hop_length

    def scheduler_config(self) -> dict[str, Any]:
        return dict(self.schedule)

    # ---- decoding and encoding
    def _decode(self, latent: torch.Tensor) -> torch.Tensor:
        """Latent -> waveform `(batch, samples)` float32: VAE to the model's log-mel, then the vocoder."""
        mel = self.vae.decode(self._cast(latent) / self.vae.config.scaling_factor).sample
        return self.vocoder(mel.squeeze(1)).float()

    def decode_mel(self, latent: torch.Tensor) -> torch.Tensor:
        """Differentiable: latent -> waveform (VAE and vocoder blocks checkpointed) -> log-mel
        `(batch, n_mels, frames)`."""
        return log_mel(self._decode(latent), self.mel)

    def decode_audio(self, latent: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self._decode(latent).clamp(-1, 1).unsqueeze(1)

    def audio_to_mel(self, audio: torch.Tensor, sample_rate: int) -> torch.Tensor:
        mono = to_mono(audio.float())
        if sample_rate != self.sample_rate:
            mono = resample(mono, sample_rate, self.sample_rate)
        return log_mel(mono.to(self.device), self.mel)

    def encode_audio(self, audio: torch.Tensor, sample_rate: int) -> torch.Tensor:
        """Waveform -> the model's log-mel -> VAE posterior mode x scaling factor `(batch, *latent_shape)`.

        The clip is cut or zero-padded to a whole number of latent frames (the latent of `samples / rate` seconds).
        """
        mono = to_mono(audio.float())
        if sample_rate != self.sample_rate:
            mono = resample(mono, sample_rate, self.sample_rate)
        shape = self.latent_shape(mono.shape[-1] / self.sample_rate)
        frames = shape[1] * self.vae_scale
        mel = log_mel(mono.to(self.device), self.model_mel)[..., :frames]
        mel = torch.nn.functional.pad(mel, (0, frames - mel.shape[-1]), value=math.log(self.model_mel.log_floor))
        image = mel.transpose(1, 2).unsqueeze(1)  # (batch, 1, frames, bins)
        with torch.no_grad():
            posterior = self.vae.encode(self._cast(image)).latent_dist
            return (posterior.mode() * self.vae.config.scaling_factor).float()
