"""A control: a target, a differentiable loss on log-mel frames, an optional time mask, a weight, a tolerance.

`loss(logmel)` and `metric(logmel)` take `(batch, n_mels, frames)` and return one value per batch item
`(batch,)`. The loss is what the optimizer minimizes; the metric is in the control's own units (dB for intensity,
error rate for melody, ...) and is what `tolerance` is compared with to stop early.

Render checks also hand a control the decoded audio `(batch, channels, samples)`: `audio_metric` judges the
render where it is heard (by default the same as `metric` on the render's log-mel), `correct_toward` lets a
control correct its loss toward that judgement, and `failures` names what fails the control whatever its error.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

import torch


@dataclass
class Control(abc.ABC):
    label: str
    weight: float
    tolerance: float

    @abc.abstractmethod
    def loss(self, logmel: torch.Tensor) -> torch.Tensor:
        """Differentiable loss `(batch,)`."""

    def metric(self, logmel: torch.Tensor) -> torch.Tensor:
        """Value in the control's units compared with `tolerance` `(batch,)`; defaults to the loss."""
        return self.loss(logmel)

    def within_tolerance(self, logmel: torch.Tensor) -> torch.Tensor:
        return self.metric(logmel) <= self.tolerance

    def audio_metric(self, logmel: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        """The metric `(batch,)` of a render, given its log-mel and its decoded audio."""
        return self.metric(logmel)

    def correct_toward(self, logmel: torch.Tensor, audio: torch.Tensor) -> None:
        """Take a render's log-mel and audio into account in later losses (nothing by default)."""

    def failures(self, audio: torch.Tensor) -> list[list[str]]:
        """Per batch item of decoded audio `(batch, channels, samples)`, reasons the control fails regardless of
        its metric (none by default)."""
        return [[] for _ in range(audio.shape[0])]


def only_control(controls, kind: type):
    """The one control of type `kind` among `controls`, or None when there is none or more than one."""
    found = [c for c in controls if isinstance(c, kind)]
    return found[0] if len(found) == 1 else None


def masked_mse(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean square error over the frames where `mask` `(frames,)` is 1: `(batch, C, frames)` -> `(batch,)`."""
    mask = mask.to(a)
    squared = (a - b).pow(2).mean(dim=-2)
    return (squared * mask).sum(dim=-1) / mask.sum().clamp(min=1.0)
