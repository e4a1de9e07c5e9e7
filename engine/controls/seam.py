"""Seams: where frames held to a reference meet generated ones, the sound should change no more than it does at
any other moment of the clip.

Naive masking writes the reference into its frames and lets the model fill the rest; nothing asks the two to
join, so a join can click or jump in timbre. With an anchored chain (`engine.sampling.anchor`, the last step
pasted) the reference frames are exact already, and what DITTO can still improve is the join: this control.

Spectral change at frame boundary i: RMS over mel bins of log-mel frame i minus frame i - 1, in nats. A join's
score is the largest change within `halo` frames of it, relative to the clip's median change away from the joins,
both plus `floor` (so near-silent clips do not divide by nothing): 1.0 means the join changes the sound no more
than a typical moment, a click scores far higher. The metric is the mean score over the joins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from engine.audio.mel import MelSpec, log_mel
from engine.controls.base import Control

SEAM_TOLERANCE = 2.0
"""A join may change the sound up to twice as much as a typical moment of the clip (music has attacks too)."""
HALO = 2
FLOOR = 0.05


def spectral_change(logmel: torch.Tensor) -> torch.Tensor:
    """`(batch, n_mels, frames)` -> `(batch, frames - 1)`: entry i - 1 is the change into frame i (nats)."""
    return torch.sqrt((logmel[..., 1:] - logmel[..., :-1]).pow(2).mean(dim=-2) + 1e-10)


def joins(mask: torch.Tensor, end: int) -> tuple[int, ...]:
    """Frames p in 1 .. end - 1 where `mask` `(frames,)` changes between frame p - 1 and p."""
    held = mask[:end] > 0.5
    return tuple(int(p) for p in torch.nonzero(held[1:] != held[:-1]).flatten() + 1)


def join_ratios(logmel: torch.Tensor, positions: tuple[int, ...], end: int, halo: int = HALO,
                floor: float = FLOOR) -> torch.Tensor:
    """`(batch, joins, 2 * halo + 1)`: change near each join over the typical change (median away from the joins,
    not differentiated), both plus `floor`; frames past `end` are ignored."""
    change = spectral_change(logmel[..., :end])
    away = torch.ones(change.shape[-1], dtype=torch.bool, device=change.device)
    for p in positions:
        away[max(0, p - 1 - 2 * halo): p + 2 * halo + 1] = False
    typical = change[..., away].median(dim=-1).values.detach() if away.sum() >= 4 else change.detach().median(-1).values
    windows = [_window(change, p - 1, halo) for p in positions]
    return (torch.stack(windows, dim=1) + floor) / (typical[:, None, None] + floor)


def _window(change: torch.Tensor, centre: int, halo: int) -> torch.Tensor:
    """`(batch, 2 * halo + 1)` entries of `change` `(batch, n)` around `centre`, edges repeated."""
    index = torch.arange(centre - halo, centre + halo + 1, device=change.device).clamp(0, change.shape[-1] - 1)
    return change[..., index]


@dataclass
class Seam(Control):
    """Joins between reference frames (`mask` 1, `(frames,)`) and generated ones, up to the clip's `end` frame."""

    mask: torch.Tensor = field(default=None)
    end: int = 0
    spec: MelSpec = field(default_factory=MelSpec)

    positions: tuple[int, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        self.positions = joins(self.mask, self.end)  # once: loss and metric run every optimizer step

    def loss(self, logmel: torch.Tensor) -> torch.Tensor:
        """Mean square of how far the change near each join exceeds the typical change `(batch,)`."""
        if not self.positions:
            return logmel.new_zeros(logmel.shape[0])
        return torch.relu(join_ratios(logmel, self.positions, self.end) - 1.0).pow(2).mean(dim=(-1, -2))

    def metric(self, logmel: torch.Tensor) -> torch.Tensor:
        """Mean over joins of the largest change near the join over the typical change `(batch,)`."""
        if not self.positions:
            return logmel.new_ones(logmel.shape[0])
        return join_ratios(logmel, self.positions, self.end).amax(dim=-1).mean(dim=-1)

    def audio_metric(self, logmel: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        """The metric on the log-mel of the decoded audio `(batch, 1, samples)` at the mel's rate."""
        heard = log_mel(audio[:, 0].float().cpu(), self.spec)
        frames = min(heard.shape[-1], logmel.shape[-1])
        end = min(self.end, frames)
        positions = tuple(p for p in self.positions if p < end - HALO)
        if not positions:
            return self.metric(logmel)
        return join_ratios(heard[..., :frames], positions, end).amax(dim=-1).mean(dim=-1).to(logmel)
