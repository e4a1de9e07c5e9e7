"""Anchoring: frames of the latent held to a known reference while sampling (in-painting, out-painting, loops).

After every sampler step the anchored frames are overwritten with the reference noised to the level the step
lands on (forward diffusion with fixed seeded noise, the same in every pass, so the chain stays one deterministic,
differentiable function of x_T). The model sees the reference at every step and writes the free frames around it.

After the last step the anchored frames hold the clean reference: the output is the reference there, exactly.
On its own that is naive masking, whose joins are free to clash; DITTO optimizes x_T through the anchored chain
so the joins sound like any other moment of the clip (`engine.controls.seam`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.sampling.levels import noised


@dataclass(frozen=True)
class Anchor:
    """A clean reference latent `(1, *latent)` laid out on the output's frames, a frame mask `(frames,)` (1 where
    the output is anchored to the reference) and the seed of the re-noising."""

    latent: torch.Tensor
    mask: torch.Tensor
    noise_seed: int = 0

    def frame_mask(self, like: torch.Tensor) -> torch.Tensor:
        """The mask shaped to broadcast over `like` `(batch, ..., frames)`."""
        return self.mask.to(like).view(*([1] * (like.ndim - 1)), -1)

    def noise(self, shape: torch.Size, steps: int, device: torch.device, dtype: torch.dtype) -> list[torch.Tensor]:
        """Fixed re-noising draws: one for x_T and one per step, `steps + 1` tensors of `shape`."""
        generator = torch.Generator().manual_seed(self.noise_seed)
        return [torch.randn(shape, generator=generator).to(device, dtype) for _ in range(steps + 1)]

    def hold(self, x: torch.Tensor, alpha_bar: float, eps: torch.Tensor) -> torch.Tensor:
        """`x` `(batch, *latent)` with its anchored frames replaced by the reference noised to `alpha_bar`."""
        mask = self.frame_mask(x)
        return mask * noised(self.latent.to(x), eps, alpha_bar) + (1.0 - mask) * x
