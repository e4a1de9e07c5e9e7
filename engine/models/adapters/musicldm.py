"""MusicLDM (ucsd-reach/musicldm) through diffusers: UNet2DConditionModel conditioned on CLAP text features, mel VAE,
HiFi-GAN vocoder at 16 kHz.

The pipeline passes the CLAP text embedding `(batch, projection_dim)` to the UNet as `class_labels` (no
cross-attention states); precomputed embeddings are therefore {"clap": (1, projection_dim)}, the tensor the pipeline
accepts as `prompt_embeds`. The unconditional branch of guidance is the empty prompt's embedding, as in the pipeline.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from engine.models.adapters.common import Embeddings
from engine.models.adapters.mel_latent import MelLatentAdapter


class ClapTextEncoder:
    """CLAP's tokenizer and text tower: prompt -> {"clap": (1, projection_dim)}, as the pipeline computes it."""

    def __init__(self, tokenizer, text_encoder: nn.Module):
        self.tokenizer = tokenizer
        self.text_encoder = text_encoder.eval().requires_grad_(False)

    def to(self, device: torch.device | str, dtype: torch.dtype) -> None:
        """Device only: the encoder keeps the dtype it was loaded in."""
        self.text_encoder.to(device=device)

    def _encode(self, prompt: str) -> Embeddings:
        device = next(self.text_encoder.parameters()).device
        tokens = self.tokenizer([prompt], padding="max_length", max_length=self.tokenizer.model_max_length,
                                truncation=True, return_tensors="pt")
        features = self.text_encoder.get_text_features(tokens.input_ids.to(device),
                                                       attention_mask=tokens.attention_mask.to(device))
        # transformers 5 returns an output object whose pooler_output holds the projected features.
        features = getattr(features, "pooler_output", features)
        return {"clap": features.float()}

    @torch.no_grad()
    def __call__(self, prompt: str, *, negative: bool) -> tuple[Embeddings, Embeddings | None]:
        return self._encode(prompt), (self._encode("") if negative else None)


class MusicLDMAdapter(MelLatentAdapter):
    """DITTO-ready MusicLDM: the engine samples, this adapter denoises, decodes and encodes."""

    family = "MusicLDM"

    def __init__(self, *args: Any, name: str = "musicldm", **kwargs: Any):
        super().__init__(*args, name=name, **kwargs)

    @classmethod
    def from_pipeline(cls, pipe, **kwargs) -> "MusicLDMAdapter":
        """From a loaded `MusicLDMPipeline`: its UNet, VAE, vocoder, scheduler config and CLAP text encoder."""
        return cls(pipe.unet, pipe.vae, pipe.vocoder, dict(pipe.scheduler.config),
                   prompt_encoder=ClapTextEncoder(pipe.tokenizer, pipe.text_encoder), **kwargs)

    def prepare(self, embeddings: Embeddings) -> dict[str, torch.Tensor]:
        return {"clap": embeddings["clap"].float()}

    def denoise(self, x_t: torch.Tensor, t: torch.Tensor, cond: Any) -> torch.Tensor:
        """Noise (or v) prediction for `x_t` `(batch, channels, time, freq)` at integer timesteps `t` `(batch,)`."""
        out = self.unet(self._cast(x_t), t, encoder_hidden_states=None, class_labels=self._cast(cond["clap"]),
                        return_dict=False)[0]
        return out.float()
