"""Structure control: the output's MFCC self-similarity matches a target built from section labels (A B A ...)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from engine.audio.mel import MelSpec
from engine.controls.base import Control
from engine.features.structure import self_similarity


def sections_to_similarity(sections, spec: MelSpec, frames: int, pool: int) -> tuple[np.ndarray, np.ndarray]:
    """Target self-similarity `(blocks, blocks)` (1 for equal labels, 0 otherwise) and a block mask `(blocks,)`
    (1 where a section covers the block's centre)."""
    blocks = -(-frames // pool)
    centres = spec.frame_times(frames)[np.minimum(np.arange(blocks) * pool + pool // 2, frames - 1)]
    labels = np.full(blocks, None, dtype=object)
    for section in sections:
        labels[(centres >= section.start) & (centres < section.end)] = section.label
    covered = np.array([label is not None for label in labels])
    same = np.array([[a is not None and a == b for b in labels] for a in labels], dtype=np.float64)
    return same, covered.astype(np.float64)


@dataclass
class StructureControl(Control):
    target: torch.Tensor = field(default=None)  # (blocks, blocks)
    block_mask: torch.Tensor = field(default=None)  # (blocks,)
    pool: int = 16

    def loss(self, logmel: torch.Tensor) -> torch.Tensor:
        """Mean square error between self-similarity matrices over the labelled blocks."""
        ssm = self_similarity(logmel, pool=self.pool)
        mask = self.block_mask.to(ssm)
        pair = mask[:, None] * mask[None, :]
        return ((ssm - self.target.to(ssm)) ** 2 * pair).sum(dim=(-1, -2)) / pair.sum()
