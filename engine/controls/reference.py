"""Reference controls: in-painting, out-painting and looping as masked MSE on log-mel frames (paper, sec. 4.1).

Frames are the output's log-mel frames; `end` is the frame where the requested clip ends (the latent may be a
few frames longer). All losses are mean squares in natural-log mel units over the constrained frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from engine.controls.base import Control, masked_mse


@dataclass
class ReferenceMatch(Control):
    """Output frames where `mask` is 1 match `reference` `(1, n_mels, frames)` (inpaint, outpaint)."""

    reference: torch.Tensor = field(default=None)
    mask: torch.Tensor = field(default=None)

    def loss(self, logmel: torch.Tensor) -> torch.Tensor:
        return masked_mse(logmel, self.reference.to(logmel), self.mask)


@dataclass
class SelfLoop(Control):
    """The last `overlap` frames before `end` repeat the first `overlap` frames: the clip loops at `end - overlap`."""

    overlap: int = 0
    end: int = 0

    def loss(self, logmel: torch.Tensor) -> torch.Tensor:
        head = logmel[..., : self.overlap]
        tail = logmel[..., self.end - self.overlap: self.end]
        return (tail - head).pow(2).mean(dim=(-1, -2))
