"""AudioLDM2 (e.g. cvssp/audioldm2-music) through diffusers: AudioLDM2UNet2DConditionModel, mel VAE, HiFi-GAN.

Conditioning, as the pipeline builds it: CLAP text features and T5 states go through the projection model and GPT-2,
which generates `max_new_tokens` (8) hidden states; the UNet cross-attends to those ("generated", width of GPT-2)
and to the T5 states ("t5", with its attention mask "t5_mask"). Precomputed embeddings therefore carry the three
tensors the pipeline accepts as `generated_prompt_embeds`, `prompt_embeds` and `attention_mask`. The unconditional
branch of guidance is the empty prompt's embeddings, as in the pipeline.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from engine.models.adapters.common import Embeddings, pad_tokens
from engine.models.adapters.mel_latent import MelLatentAdapter


class AudioLDM2TextEncoder:
    """The pipeline's text path, run once per prompt without gradients: CLAP text features and T5 states, the
    projection model, then GPT-2 generating `max_new_tokens` hidden states from them.

    It follows `AudioLDM2Pipeline.encode_prompt` step for step (same tokenizer padding for the prompt and for the
    empty prompt) but runs GPT-2's generation loop itself: the released checkpoints store a `GPT2Model`, which under
    transformers 5 lacks the generation helpers that method calls.
    """

    def __init__(self, tokenizer, text_encoder: nn.Module, tokenizer_2, text_encoder_2: nn.Module,
                 projection_model: nn.Module, language_model: nn.Module, max_new_tokens: int = 8):
        if getattr(text_encoder_2.config, "model_type", "") != "t5":
            raise ValueError(f"text_encoder_2 is {type(text_encoder_2).__name__}; only the T5 (text-to-audio / music) "
                             "AudioLDM2 checkpoints are supported")
        self.tokenizer, self.tokenizer_2 = tokenizer, tokenizer_2
        self.networks = {"text_encoder": text_encoder, "text_encoder_2": text_encoder_2,
                         "projection_model": projection_model, "language_model": language_model}
        for network in self.networks.values():
            network.eval().requires_grad_(False)
        self.max_new_tokens = int(max_new_tokens)

    @classmethod
    def from_pipeline(cls, pipe) -> "AudioLDM2TextEncoder":
        steps = getattr(pipe.language_model.config, "max_new_tokens", None) or 8
        return cls(pipe.tokenizer, pipe.text_encoder, pipe.tokenizer_2, pipe.text_encoder_2, pipe.projection_model,
                   pipe.language_model, max_new_tokens=steps)

    def to(self, device: torch.device | str, dtype: torch.dtype) -> None:
        """Device only: the encoders keep the dtypes they were loaded in (T5 keeps some layers in float32)."""
        for network in self.networks.values():
            network.to(device=device)

    def _encode(self, prompt: str, t5_length: int | None) -> Embeddings:
        clap, t5, projection = (self.networks[k] for k in ("text_encoder", "text_encoder_2", "projection_model"))
        device = next(clap.parameters()).device
        tokens = self.tokenizer([prompt], padding="max_length", max_length=self.tokenizer.model_max_length,
                                truncation=True, return_tensors="pt")
        features = clap.get_text_features(tokens.input_ids.to(device), attention_mask=tokens.attention_mask.to(device))
        features = getattr(features, "pooler_output", features)[:, None, :]  # (1, 1, projection_dim)
        clap_mask = torch.ones(1, 1, dtype=torch.long, device=device)
        padding = {"padding": True} if t5_length is None else {"padding": "max_length", "max_length": t5_length}
        tokens = self.tokenizer_2([prompt], truncation=True, return_tensors="pt", **padding)
        t5_mask = tokens.attention_mask.to(device)
        states = t5(tokens.input_ids.to(device), attention_mask=t5_mask)[0]
        projected = projection(hidden_states=features, hidden_states_1=states, attention_mask=clap_mask,
                               attention_mask_1=t5_mask)
        generated = generate_hidden_states(self.networks["language_model"], projected.hidden_states,
                                           projected.attention_mask, self.max_new_tokens)
        return {"generated": generated.float(), "t5": states.float(), "t5_mask": t5_mask}

    @torch.no_grad()
    def __call__(self, prompt: str, *, negative: bool) -> tuple[Embeddings, Embeddings | None]:
        cond = self._encode(prompt, None)
        return cond, (self._encode("", cond["t5"].shape[1]) if negative else None)


def generate_hidden_states(language_model: nn.Module, embeds: torch.Tensor, mask: torch.Tensor,
                           steps: int) -> torch.Tensor:
    """Greedy generation in hidden-state space: append the last position's final hidden state `steps` times and
    return the appended states `(batch, steps, width)` (AudioLDM2's "generated prompt embeddings").

    Each step reruns the whole sequence (no key/value cache): for 8 steps this costs little and needs no
    generation helpers from the language model class.
    """
    for _ in range(steps):
        output = language_model(inputs_embeds=embeds, attention_mask=mask, output_hidden_states=True,
                                return_dict=True)
        embeds = torch.cat([embeds, output.hidden_states[-1][:, -1:, :]], dim=1)
        mask = torch.cat([mask, mask.new_ones(mask.shape[0], 1)], dim=1)
    return embeds[:, -steps:, :]


class AudioLDM2Adapter(MelLatentAdapter):
    """DITTO-ready AudioLDM2: the engine samples, this adapter denoises, decodes and encodes."""

    family = "AudioLDM2"

    def __init__(self, *args: Any, name: str = "audioldm2-music", **kwargs: Any):
        super().__init__(*args, name=name, **kwargs)

    @classmethod
    def from_pipeline(cls, pipe, **kwargs) -> "AudioLDM2Adapter":
        """From a loaded `AudioLDM2Pipeline`: its UNet, VAE, vocoder, scheduler config and text encoders."""
        return cls(pipe.unet, pipe.vae, pipe.vocoder, dict(pipe.scheduler.config),
                   prompt_encoder=AudioLDM2TextEncoder.from_pipeline(pipe), **kwargs)

    def prepare(self, embeddings: Embeddings) -> dict[str, torch.Tensor]:
        t5 = embeddings["t5"].float()
        mask = embeddings.get("t5_mask")
        mask = torch.ones(t5.shape[:2], dtype=torch.long, device=t5.device) if mask is None else mask.long()
        return {"generated": embeddings["generated"].float(), "t5": t5, "t5_mask": mask}

    def align(self, cond: dict[str, torch.Tensor], uncond: dict[str, torch.Tensor]):
        """Pad both branches' T5 states to the same number of tokens (the padding is masked out)."""
        length = max(cond["t5"].shape[1], uncond["t5"].shape[1])
        aligned = []
        for branch in (cond, uncond):
            t5, mask = pad_tokens(branch["t5"], branch["t5_mask"], length)
            aligned.append({**branch, "t5": t5, "t5_mask": mask})
        if cond["generated"].shape[1] != uncond["generated"].shape[1]:
            raise ValueError("generated prompt embeddings of the prompt and the empty prompt differ in length "
                             f"({cond['generated'].shape[1]} vs {uncond['generated'].shape[1]})")
        return aligned[0], aligned[1]

    def denoise(self, x_t: torch.Tensor, t: torch.Tensor, cond: Any) -> torch.Tensor:
        """Noise (or v) prediction for `x_t` `(batch, channels, time, freq)` at integer timesteps `t` `(batch,)`."""
        out = self.unet(self._cast(x_t), t, encoder_hidden_states=self._cast(cond["generated"]),
                        encoder_hidden_states_1=self._cast(cond["t5"]), encoder_attention_mask_1=cond["t5_mask"],
                        return_dict=False)[0]
        return out.float()
