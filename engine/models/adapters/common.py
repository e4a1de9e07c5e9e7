"""What the diffusers adapters share: precision, prompt embeddings, classifier-free guidance and decoder checkpointing.

Precision: an adapter keeps two dtypes. `dtype` (always float32) is the dtype of what the engine sees and optimizes:
x_T, the scheduler's arithmetic, the decoded audio and the log-mel features. `compute_dtype` (float32 on the CPU,
bfloat16 on CUDA where the card supports it, else float16) is the dtype the networks run in; each network call
casts its inputs to it and its output back to float32. Adam's steps of ~5e-3 on x_T would be rounded away in
bfloat16 (its spacing near 1 is 2^-7), so x_T itself never leaves float32.

Prompts: a `PromptEncoder` turns a prompt into the embeddings a pipeline's denoiser is conditioned on, computed
once, without gradients. Two kinds exist: the pipeline's own tokenizers and text encoders (full weights), and
`PrecomputedPrompts`, a table of embeddings computed elsewhere (tests, or a machine without the text encoders).
"""

from __future__ import annotations

import abc
import math
import os
from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from engine.audio.mel import MelSpec
from engine.errors import JobError
from engine.models.base import Conditioning, DiffusionModel
from engine.precision import ENVIRONMENT_VARIABLE, resolve_precision

Embeddings = dict[str, torch.Tensor]
"""Named prompt embeddings with a leading batch axis, e.g. {"text": (batch, tokens, width), "mask": (batch, tokens)}."""

DTYPE_NAMES = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
               "float16": torch.float16, "fp16": torch.float16}


def mel_for_rate(sample_rate: int) -> MelSpec:
    """A feature-domain MelSpec for audio at `sample_rate`: hop the power of two nearest 10 ms, window 4 hops,
    128 bins from 32 kHz up (80 from 16 kHz, 32 below), up to min(11025 Hz, Nyquist)."""
    hop = 2 ** round(math.log2(sample_rate / 100))
    n_mels = 128 if sample_rate >= 32000 else 80 if sample_rate >= 16000 else 32
    return MelSpec(sample_rate=sample_rate, n_fft=4 * hop, hop_length=hop, win_length=4 * hop, n_mels=n_mels,
                   fmin=0.0, fmax=min(11025.0, sample_rate / 2))


def pick_compute_dtype(device: torch.device | str, preference: str | torch.dtype | None = None) -> torch.dtype:
    """The dtype networks run in on `device`: `preference` ("auto"/None, "float32", "bfloat16", "float16" or a
    torch dtype), else a precision named by `DITTO_BRIDGE_PRECISION` (`engine/precision.py`, shared with the
    built-in model), else float32 on the CPU, bfloat16 on CUDA cards that support it, float16 on other GPUs."""
    if isinstance(preference, torch.dtype):
        return preference
    if preference not in (None, "", "auto"):
        try:
            return DTYPE_NAMES[str(preference).lower()]
        except KeyError:
            raise JobError(f"dtype: unknown {preference!r}; choose auto, {', '.join(sorted(DTYPE_NAMES))}") from None
    device = torch.device(device)
    named = os.environ.get(ENVIRONMENT_VARIABLE, "auto").strip().lower()
    if named != "auto":
        return resolve_precision(device, named)
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "mps":
        return torch.float16
    return torch.float32


class PromptEncoder(Protocol):
    """Prompt -> (embeddings for the prompt, embeddings for the empty prompt or None), each with batch 1.

    `negative=True` asks for the second item (the unconditional branch of classifier-free guidance).
    Implementations run without gradients.
    """

    def __call__(self, prompt: str, *, negative: bool) -> tuple[Embeddings, Embeddings | None]: ...


class PrecomputedPrompts:
    """Prompt embeddings computed beforehand: `{prompt: embeddings with batch 1}`.

    The unconditional branch uses the entry of `negative_prompt` (default "", the pipelines' choice).
    """

    def __init__(self, table: Mapping[str, Embeddings], *, negative_prompt: str = ""):
        for prompt, embeddings in table.items():
            for key, value in embeddings.items():
                if not isinstance(value, torch.Tensor) or value.shape[0] != 1:
                    raise ValueError(f"precomputed prompt {prompt!r}: {key} must be a tensor with batch 1")
        self.table = {prompt: {k: v.detach() for k, v in embeddings.items()} for prompt, embeddings in table.items()}
        self.negative_prompt = negative_prompt

    def _lookup(self, prompt: str, role: str) -> Embeddings:
        if prompt not in self.table:
            known = ", ".join(repr(p) for p in self.table) or "none"
            raise JobError(f"prompt: {role} {prompt!r} has no precomputed embedding (known prompts: {known}); this "
                           "model was built without text encoders, so only those prompts can be used")
        return self.table[prompt]

    def __call__(self, prompt: str, *, negative: bool) -> tuple[Embeddings, Embeddings | None]:
        cond = self._lookup(prompt, "prompt")
        return cond, (self._lookup(self.negative_prompt, "negative prompt") if negative else None)


def expand_batch(embeddings: Embeddings, batch: int) -> Embeddings:
    """Repeat batch-1 embeddings `batch` times along the first axis."""
    return {k: v.expand(batch, *v.shape[1:]).clone() for k, v in embeddings.items()}


def pad_tokens(values: torch.Tensor, mask: torch.Tensor | None, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-pad `(batch, tokens, width)` embeddings to `length` tokens; the padding is masked out (mask 0)."""
    if mask is None:
        mask = torch.ones(values.shape[:2], dtype=torch.long, device=values.device)
    extra = length - values.shape[1]
    if extra <= 0:
        return values, mask
    values = torch.cat([values, values.new_zeros(values.shape[0], extra, values.shape[2])], dim=1)
    mask = torch.cat([mask, mask.new_zeros(mask.shape[0], extra)], dim=1)
    return values, mask


def checkpoint_each(modules: Iterable[nn.Module], enabled: Callable[[], bool]) -> None:
    """Run each module's forward under `torch.utils.checkpoint` (use_reentrant=False) while `enabled()` is true and
    gradients are on: only the block's input is kept, its activations are recomputed during backward.

    Wrapping blocks one by one (rather than a whole decoder) is what lowers the peak: the backward pass then holds
    one block's activations at a time. The module's parameters and state dict are unchanged.
    """
    for module in modules:
        if hasattr(module, "_checkpoint_enabled"):  # wrapped before (a second adapter on the same networks)
            module._checkpoint_enabled = enabled
            continue
        module._checkpoint_enabled = enabled
        original = module.forward

        def forward(*args, _module=module, _original=original, **kwargs):
            if _module._checkpoint_enabled() and torch.is_grad_enabled():
                return checkpoint(_original, *args, use_reentrant=False, **kwargs)
            return _original(*args, **kwargs)

        module.forward = forward


class DiffusersAdapter(DiffusionModel):
    """Base of the diffusers adapters: placement, precision, prompt conditioning and guidance.

    Subclasses set `info`, `mel`, `modules` (every network `to()` moves), `prompt_encoder`, and implement
    `prepare(embeddings)` (prompt embeddings -> the denoiser's conditioning, no gradients) and the
    `DiffusionModel` methods.
    """

    modules: dict[str, nn.Module]
    prompt_encoder: PromptEncoder | None
    compute_dtype: torch.dtype
    checkpoint_decode: bool
    zero_unconditional: bool = False
    """True when the unconditional branch is all-zero embeddings (Stable Audio) rather than the empty prompt's."""

    def _setup(self, modules: dict[str, nn.Module], *, prompt_encoder: PromptEncoder | None,
               compute_dtype: torch.dtype, checkpoint_decode: bool, mel: MelSpec) -> None:
        self.modules = {name: module.eval().requires_grad_(False) for name, module in modules.items()}
        self.prompt_encoder = prompt_encoder
        self.compute_dtype = compute_dtype
        self.checkpoint_decode = checkpoint_decode
        self.mel = mel
        for module in self.modules.values():
            if next(module.parameters()).dtype != compute_dtype:
                module.to(dtype=compute_dtype)

    # ---- conditioning
    @abc.abstractmethod
    def prepare(self, embeddings: Embeddings) -> dict[str, torch.Tensor]:
        """Prompt embeddings `(batch, ...)` -> the conditioning `denoise` takes, on this device, float32."""

    def unconditional(self, cond: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The unconditional branch when `zero_unconditional`: zeros shaped like `cond`."""
        return {k: torch.zeros_like(v) for k, v in cond.items()}

    def align(self, cond: dict[str, torch.Tensor], uncond: dict[str, torch.Tensor]
              ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """Make the two branches batchable (same token counts); models with variable-length tokens override."""
        return cond, uncond

    def condition_from_embeddings(self, embeddings: Embeddings, negative: Embeddings | None = None, *,
                                  guidance_scale: float = 1.0, batch: int = 1) -> Conditioning:
        """Conditioning from precomputed prompt embeddings (batch 1, expanded to `batch`).

        Guidance is on unless `guidance_scale` is 0 or 1 (the engine's rule, as for the built-in model); its
        unconditional branch is `negative`, or zeros for models whose pipeline uses zeros.
        """
        guided = guidance_scale not in (0.0, 1.0)
        with torch.no_grad():
            cond = self.prepare(expand_batch(self._to_device(embeddings), batch))
            uncond = None
            if guided:
                if self.zero_unconditional:
                    uncond = self.unconditional(cond)
                elif negative is None:
                    raise JobError(f"guidance_scale: {guidance_scale} needs the empty prompt's embeddings for "
                                   f"{self.info.name}'s unconditional branch; pass them, or use guidance_scale 1")
                else:
                    uncond = self.prepare(expand_batch(self._to_device(negative), batch))
                    cond, uncond = self.align(cond, uncond)
        return Conditioning(cond=cond, uncond=uncond, guidance_scale=guidance_scale)

    def condition(self, *, tags: Sequence[str] = (), prompt: str | None = None, guidance_scale: float = 1.0,
                  batch: int = 1) -> Conditioning:
        """Encode the prompt (or the tags joined by commas) once, without gradients."""
        text = prompt if prompt else ", ".join(tags)
        if self.prompt_encoder is None:
            raise JobError(f"prompt: {self.info.name} has no text encoder and no precomputed prompts; load it "
                           "from a complete pipeline folder or give it precomputed embeddings")
        needs_negative = guidance_scale not in (0.0, 1.0) and not self.zero_unconditional
        with torch.no_grad():
            cond, negative = self.prompt_encoder(text, negative=needs_negative)
        return self.condition_from_embeddings(cond, negative, guidance_scale=guidance_scale, batch=batch)

    def _to_device(self, embeddings: Embeddings) -> Embeddings:
        return {k: v.to(self.device) for k, v in embeddings.items()}

    # ---- placement
    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> "DiffusersAdapter":
        """Move every network to `device`; `dtype`, if given, becomes the compute dtype (latents stay float32)."""
        if dtype is not None:
            self.compute_dtype = dtype
        for module in self.modules.values():
            if next(module.parameters()).dtype != self.compute_dtype:
                module.to(dtype=self.compute_dtype)
            module.to(device=device)
        encoder_to = getattr(self.prompt_encoder, "to", None)
        if callable(encoder_to):
            encoder_to(device, self.compute_dtype)
        return self

    @property
    def device(self) -> torch.device:
        return next(next(iter(self.modules.values())).parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        """The dtype of latents, audio and features the engine handles (float32); see `compute_dtype`."""
        return torch.float32

    def parameter_count(self) -> int:
        return sum(p.numel() for module in self.modules.values() for p in module.parameters())

    def _cast(self, value: Any) -> Any:
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            return value.to(self.compute_dtype)
        return value
