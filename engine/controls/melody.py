"""Melody control: the output plays a target pitch class per frame (paper, sec. 4.2), as a listener hears it.

The paper's loss is the negative log-likelihood of the target pitch class under the frame's chroma. Chroma counts a
note's overtones for the pitch classes a fifth and a third above it, so a take can satisfy it while a transcriber
hears another note on top. Here each frame is read twice: by chroma (`engine.features.chroma`) and by the pitch
classes of the harmonic note salience (`engine.features.pitch`), which credits overtones to their note. The loss is
the mean of the two negative log-likelihoods; the metric (error rate) counts a frame right only when both readings
put the target pitch class first, so neither can be met on its own by a sound that does not carry the tune.
Frames without melody are free.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from engine.audio.mel import MelSpec
from engine.controls.base import Control
from engine.features.chroma import chroma
from engine.features.pitch import note_pitch_classes

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

    def _readings(self, logmel: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """The frames with a target: both pitch-class readings `(batch, 12, active)` and the target `(active,)`."""
        active = (self.target >= 0).to(logmel.device)
        readings = [chroma(logmel, self.spec), note_pitch_classes(logmel, self.spec)]
        return [reading[..., active] for reading in readings], self.target.to(logmel.device)[active]

    def loss(self, logmel: torch.Tensor) -> torch.Tensor:
        readings, target = self._readings(logmel)
        index = target.view(1, 1, -1).expand(logmel.shape[0], 1, -1)
        nll = [-torch.log(reading.gather(1, index).squeeze(1) + 1e-8).mean(dim=-1) for reading in readings]
        return sum(nll) / len(nll)

    def metric(self, logmel: torch.Tensor) -> torch.Tensor:
        readings, target = self._readings(logmel)
        right = torch.stack([reading.argmax(dim=1) == target for reading in readings]).all(dim=0)
        return 1.0 - right.float().mean(dim=-1)
