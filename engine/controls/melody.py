"""Melody control: the output's chroma follows a target pitch class per frame (paper, sec. 4.2).

Loss: negative log-likelihood of the target pitch class under the frame's normalized chroma, averaged over the
frames that have a target (frames without melody are free). Metric: error rate (1 - accuracy) on those frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from engine.audio.mel import MelSpec
from engine.controls.base import Control
from engine.features.chroma import chroma

NO_PITCH = -1


def notes_to_frames(notes, spec: MelSpec, frames: int) -> np.ndarray:
    """Pitch class per frame `(frames,)` (-1 where no note sounds) from notes with `start`/`end` seconds."""
    target = np.full(frames, NO_PITCH, dtype=np.int64)
    times = spec.frame_times(frames)
    for note in notes:
        target[(times >= note.start) & (times < note.end)] = note.pitch % 12
    return target


@dataclass
class MelodyControl(Control):
    target: torch.Tensor = field(default=None)  # (frames,) int, -1 = free
    spec: MelSpec = field(default_factory=MelSpec)

    def _active(self, logmel: torch.Tensor):
        probabilities = chroma(logmel, self.spec)  # (batch, 12, frames)
        active = self.target >= 0
        return probabilities[..., active.to(probabilities.device)], self.target[active].to(probabilities.device)

    def loss(self, logmel: torch.Tensor) -> torch.Tensor:
        probabilities, target = self._active(logmel)
        picked = probabilities.gather(1, target.view(1, 1, -1).expand(probabilities.shape[0], 1, -1))
        return -torch.log(picked.squeeze(1) + 1e-8).mean(dim=-1)

    def metric(self, logmel: torch.Tensor) -> torch.Tensor:
        probabilities, target = self._active(logmel)
        return (probabilities.argmax(dim=1) != target).float().mean(dim=-1)
