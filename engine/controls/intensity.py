"""Intensity control: the smoothed loudness curve (dB) of the output follows a target curve (paper, sec. 4.2)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from engine.audio.mel import MelSpec
from engine.controls.base import Control
from engine.features.intensity import intensity_db


def breakpoints_to_frames(times: tuple[float, ...], values: tuple[float, ...], spec: MelSpec,
                          frames: int) -> np.ndarray:
    """Piecewise-linear curve through (seconds, value) breakpoints, held at the ends, sampled at each frame."""
    return np.interp(spec.frame_times(frames), np.asarray(times, float), np.asarray(values, float))


@dataclass
class IntensityControl(Control):
    target_db: torch.Tensor = field(default=None)  # (frames,)
    mask: torch.Tensor = field(default=None)  # (frames,) 1 inside the clip, 0 in the padding
    spec: MelSpec = field(default_factory=MelSpec)

    def loss(self, logmel: torch.Tensor) -> torch.Tensor:
        """Mean square error in dB^2 between the output's intensity and the target."""
        curve = intensity_db(logmel, self.spec)
        mask = self.mask.to(curve)
        return ((curve - self.target_db.to(curve)) ** 2 * mask).sum(-1) / mask.sum()

    def metric(self, logmel: torch.Tensor) -> torch.Tensor:
        """Root mean square error in dB."""
        return self.loss(logmel).sqrt()
