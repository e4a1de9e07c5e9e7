"""Structure start: before Adam, each section of x_T leans toward a spectral shape of its own label, so sections
with one label share a timbre and sections with different labels are set apart.

Why: the structure control scores the self-similarity of the output's MFCCs (normalized over time, so what counts
is how each block differs from the clip's average timbre). From the seeded noise alone the built-in model's blocks
sound alike everywhere (a cosine near 0, a similarity near 0.5), so every pair of different labels starts far from
its target (SSM MSE near 0.26 on the WAV). Copying the noise of the first A into the later As barely moved it (first
8 tune-split structure cases, one DPM-Solver++ 10 render, no Adam: 0.242-0.323 against 0.250-0.317). Adding a
label's spectral shape to every frame of its sections did: on the WAV 0.15-0.20 at amplitude 0.1, 0.09-0.16 at 0.2.
The built-in model's latent is the normalized log-mel, and its output follows the spectral shape x_T holds.

How far to lean trades speed for staying in the model's music, and the model's music wins: the same 8 cases as
default jobs, judged on the WAV (`benchmarks/producer_eval.py --split tune --tasks structure --n-structure 8
--baselines 0`; the first three arms ran before targets for three or more labels became reachable,
`engine.controls.structure.apart_similarity`):

| amplitude | SSM MSE median / p90 | within tolerance | seconds to WAV median / p90 | Adam steps | FD-mel ratio |
|---|---|---|---|---|---|
| 0 | 0.0126 / 0.0510 | 75 % | 38.5 / 79.3 | 15.5 | 0.89 |
| 0.15 | 0.0125 / 0.0388 | 75 % | 24.4 / 87.3 | 9 | 1.69 |
| 0.6 (render checks still on the render's log-mel) | 0.0353 / 0.0621 | 0 % | 16.5 / 92.8 | 5.5 | 8.24 |
| 0, reachable targets | 0.0123 / 0.0205 | 88 % | 36.7 / 57.4 | 14.5 | 0.96 |
| **0.05, reachable targets** | 0.0123 / 0.0130 | 100 % | 31.7 / 57.7 | 14 | 1.08 |

A lean of 0.15 or more takes the music away from the model's (FD-mel against held-out music over the uncontrolled
takes' own, goal 1.3); 0.05 keeps it and still helps a little (N 8: one A B A C take met at 37 steps where it had
missed after 40).

The shapes: with k labels, the k vertices of a simplex (one-hot minus 1/k, so every pair is as far apart as k
points can be) written on the first k cosine (DCT-II) basis vectors across the mel bins after the constant one,
each scaled to unit RMS over the bins. The constant vector is left out: it would move loudness, not timbre.

Only for models whose latent frames are the mel's frames and whose latent channels are the mel bins; others start
from their seeded noise.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from engine.controls.base import Control, only_control
from engine.controls.structure import StructureControl

AMPLITUDE = 0.05
"""Height of a label's shape, in x_T's units (RMS over the mel bins; the seeded noise has unit variance)."""
UNLABELLED = -1


def block_labels(control: StructureControl) -> np.ndarray:
    """`(blocks,)` label index per block, numbered in order of first appearance (UNLABELLED where no section
    covers the block), read back from the control's target: blocks of one label have similarity 1."""
    target = control.target.detach().cpu().numpy()
    covered = control.block_mask.detach().cpu().numpy() > 0
    labels = np.full(target.shape[0], UNLABELLED)
    first_blocks: list[int] = []
    for block in np.nonzero(covered)[0]:
        same = [n for n, first in enumerate(first_blocks) if target[block, first] >= 0.5]
        if same:
            labels[block] = same[0]
        else:
            labels[block] = len(first_blocks)
            first_blocks.append(block)
    return labels


def label_shapes(labels: int, n_mels: int) -> np.ndarray:
    """`(labels, n_mels)`: the simplex vertices on DCT-II basis vectors 1..labels across the mel bins, each of
    unit RMS. One label gets a zero shape (nothing to set apart)."""
    if labels < 2:
        return np.zeros((labels, n_mels))
    bins = np.arange(n_mels)
    basis = np.stack([np.cos(np.pi / n_mels * (bins + 0.5) * j) for j in range(1, labels + 1)])
    shapes = (np.eye(labels) - 1.0 / labels) @ basis
    return shapes / np.sqrt((shapes ** 2).mean(axis=1, keepdims=True))


def structure_lean(control: StructureControl, n_mels: int, frames: int) -> torch.Tensor:
    """`(n_mels, frames)`: each frame's label shape (its block's label; zeros where no section covers it)."""
    labels = block_labels(control)
    shapes = label_shapes(int(labels.max()) + 1 if (labels >= 0).any() else 0, n_mels)
    per_frame = labels[np.minimum(np.arange(frames) // control.pool, len(labels) - 1)]
    lean = np.zeros((n_mels, frames))
    covered = per_frame >= 0
    lean[:, covered] = shapes[per_frame[covered]].T
    return torch.as_tensor(lean, dtype=torch.float32)


def structure_control(controls: Sequence[Control]) -> StructureControl | None:
    """The job's structure control, when it has exactly one."""
    return only_control(controls, StructureControl)


def structure_start(x_T: torch.Tensor, control: StructureControl, amplitude: float = AMPLITUDE) -> torch.Tensor:
    """`x_T` `(batch, n_mels, frames)` plus `amplitude` x each frame's label shape."""
    return x_T + amplitude * structure_lean(control, x_T.shape[-2], x_T.shape[-1]).to(x_T)
