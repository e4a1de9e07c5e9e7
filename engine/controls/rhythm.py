"""Rhythm control: the output's onsets fall on target onsets (seconds, with accents 0-1).

Target onsets come from a list, from a step grid (`grid_onsets`) or from a reference recording (`repeat_onsets`
of the onsets found in it). On the frame grid they become a target distribution `p` `(frames,)`: a Gaussian per
onset, its standard deviation half the hit window, its height the onset's accent squared (`ACCENT_POWER`). The
output's onset envelope (`engine.features.rhythm.onset_envelope`), smoothed by the same Gaussian, becomes a
distribution `q`.

Loss: the Kullback-Leibler divergence KL(p || q) in nats. It is 0 when the output's onsets carry their flux where
the targets are, in proportion to their heights; it grows where a target has no onset (q small where p is not) and,
since q sums to 1, with every onset far from the targets (it takes its share from the targets).
Metric: 1 - onset F-measure of the onsets picked from the envelope against the targets, a hit within the window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.nn import functional as F

from engine.audio.mel import MelSpec
from engine.controls.base import Control
from engine.features.rhythm import (frames_to_onset_seconds, gaussian_bumps, onset_envelope, onset_f_measure,
                                    onset_frame_position, pick_onsets)

ACCENT_POWER = 2.0
"""A target's share of the onset flux grows with its accent to this power: a hat at 0.5 asks for a quarter of a
kick's flux, not half, so the beat's hierarchy (what a beat tracker hears as the pulse) is asked for more firmly.
On 8 tune-split cases against the plain accents: onset F median 0.93 vs 0.87 and the tempo found within 4 % on 6
takes vs 5, at 45 s vs 34 s to WAV."""
DEFAULT_BAR_ACCENTS = (1.0, 0.7)
"""Accents of a grid without a pattern: the bar's first beat, then the others."""


def grid_onsets(grid, duration: float) -> tuple[np.ndarray, np.ndarray]:
    """Onsets (seconds) and accents `(onsets,)` of an `engine.job.RhythmGrid` over a clip of `duration` s.

    Step `i` falls at ``start + i * step`` (``step = 60 / (tempo * steps_per_beat)``), every second step
    ``swing * step`` later; the pattern repeats; steps of accent 0 are rests."""
    if grid.pattern is not None:
        pattern, per_beat = np.asarray(grid.pattern, float), grid.steps_per_beat
    else:
        first, other = DEFAULT_BAR_ACCENTS
        pattern, per_beat = np.array([first] + [other] * (grid.beats_per_bar - 1)), 1
    step = 60.0 / (grid.tempo * per_beat)
    count = math.ceil((duration - grid.start) / step) + 1
    index = np.arange(count)
    times = grid.start + index * step + np.where(index % 2 == 1, grid.swing * step, 0.0)
    accents = pattern[index % len(pattern)]
    keep = (accents > 0) & (times < duration)
    return times[keep], accents[keep]


def repeat_onsets(onsets: np.ndarray, accents: np.ndarray, period: float, duration: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Onsets (seconds) and their accents `(onsets,)` of a recording `period` s long, repeated back to back to fill
    `duration` s."""
    onsets, accents = np.asarray(onsets, float), np.asarray(accents, float)
    copies = max(1, math.ceil(duration / period)) if period > 0 else 1
    repeated = (onsets[None, :] + period * np.arange(copies)[:, None]).ravel()
    keep = repeated < duration
    return repeated[keep], np.tile(accents, copies)[keep]


@dataclass
class RhythmControl(Control):
    onsets: np.ndarray = field(default=None)  # (onsets,) seconds, sorted
    accents: np.ndarray = field(default=None)  # (onsets,) 0-1
    window: float = 0.05  # seconds
    spec: MelSpec = field(default_factory=MelSpec)
    frames: int = 0  # the latent's frames
    end: int = 0  # frames inside the clip

    def __post_init__(self) -> None:
        self.onsets = np.asarray(self.onsets, dtype=np.float64)
        self.accents = np.asarray(self.accents, dtype=np.float64)
        self._width = 0.5 * self.window * self.spec.frame_rate  # Gaussian standard deviation, frames
        heights = self.accents ** ACCENT_POWER
        target = gaussian_bumps(onset_frame_position(self.onsets, self.spec), heights, self.frames, self._width)
        target[self.end:] = 0.0
        self._target = torch.from_numpy(target / target.sum())

    def _smoothed_share(self, logmel: torch.Tensor) -> torch.Tensor:
        """The output's onset envelope smoothed by the targets' Gaussian, as a distribution `(batch, frames)`."""
        envelope = onset_envelope(logmel.float())[..., :self.end]
        radius = math.ceil(3 * self._width)
        kernel = torch.exp(-0.5 * (torch.arange(-radius, radius + 1, dtype=envelope.dtype) / self._width) ** 2)
        smoothed = F.conv1d(envelope.reshape(-1, 1, envelope.shape[-1]), kernel.view(1, 1, -1).to(envelope),
                            padding=radius).reshape(envelope.shape)
        smoothed = smoothed + 1e-6 * smoothed.detach().mean(dim=-1, keepdim=True) + 1e-12
        return smoothed / smoothed.sum(dim=-1, keepdim=True)

    def loss(self, logmel: torch.Tensor) -> torch.Tensor:
        """KL(p || q) in nats `(batch,)` (module docstring)."""
        share = self._smoothed_share(logmel)
        target = self._target[:self.end].to(share)
        present = target > 0
        p = target[present]
        return (p * (torch.log(p) - torch.log(share[..., present]))).sum(dim=-1)

    def found_onsets(self, logmel: torch.Tensor) -> list[np.ndarray]:
        """Onsets (seconds) picked from each batch item's envelope, inside the clip."""
        envelopes = onset_envelope(logmel.detach().float())[..., :self.end].cpu().numpy()
        return [frames_to_onset_seconds(pick_onsets(envelope, self.spec), self.spec) for envelope in envelopes]

    def metric(self, logmel: torch.Tensor) -> torch.Tensor:
        """1 - onset F-measure at +-`window` s `(batch,)`."""
        scores = [1.0 - onset_f_measure(found, self.onsets, self.window) for found in self.found_onsets(logmel)]
        return torch.tensor(scores, dtype=logmel.dtype, device=logmel.device)
