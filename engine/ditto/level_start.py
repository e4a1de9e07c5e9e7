"""Level start: before Adam, move each frame's mean of x_T until the render's loudness is near the intensity curve.

Why: on the built-in model a frame's output level follows the mean of that frame of x_T (over the mel bins)
steeply. Measured on two tag sets, 5.94-s clips, DPM-Solver++ 10: adding -0.02 to every value of x_T lowers the
waveform's level by 16-18 dB, +0.02 raises it by 6-7 dB, +0.1 by 12 dB (it saturates upward); an offset on a 1-s
window moves that window 7-17 dB and its neighbours a quarter as much. Adam finds that direction too, but one
coordinate at a time at its lr: a typical job spent 30 steps (65 s on 2 threads) covering 12 dB RMS.

The level start instead treats each frame's level as a function of one number, the offset `c(t)` added to
that frame of x_T, and solves level(c) = target by the secant method: render (no gradients), read the
waveform's level per frame against the target, step c by residual / slope, where the slope (dB per unit of
offset) is measured per frame from the last two renders. A render costs about as much as an Adam step (the
sampler without gradients, then the vocoder), but a few of them cover what took Adam 30 steps. The best render
seen (`BestRenders`) is where Adam starts; when it already meets every tolerance the job is done.

On the tune split of the producer evaluation (12 intensity cases, 3.5-11.6-s clips, default jobs, measured on
the WAV; `benchmarks/producer_eval.py --split tune --tasks intensity --n-intensity 12`): without a level start
75 % of takes were within tolerance, seconds to WAV median 65 / p90 97, 32 Adam steps median; with 6 level
renders (Adam at its full lr after them) 92 %, 47 / 78 s, 13 steps; with 12 and Adam at 0.3 x lr after them
(`engine.ditto.optimize.POLISH_LR_SCALE`), 92 %, 18.5 / 42.5 s, and 0 Adam steps median (9 of 12 takes met their
tolerance on a level render alone). FD-mel against held-out music, level-normalized, did not rise (2.01
without, 1.83 with 12; N 12, so both read high against the held-out evaluation's 48).

Only for models whose latent frames are the mel's frames (`DiffusionModel.latent_frames_are_mel_frames`): the
offset is a per-frame shift of the latent and the level is read on the same frames. Other models start from
their seeded noise as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from engine.controls.base import Control, only_control
from engine.controls.intensity import IntensityControl


@dataclass(frozen=True)
class LevelStartSettings:
    """The secant iteration's constants. Slopes are dB of waveform level per unit of offset on x_T; offsets are
    in x_T's units (the seeded noise has unit variance). Chosen on the tune split's first four intensity cases
    by running the iteration alone (module docstring for what they gave)."""

    renders: int = 12
    initial_slope: float = 500.0
    slope_range: tuple[float, float] = (150.0, 2000.0)
    min_move: float = 0.002
    """A frame's slope is re-measured only where its offset moved at least this much between two renders."""
    damping: float = 0.8
    max_step: float = 0.03
    offset_range: tuple[float, float] = (-0.08, 0.1)
    """Below -0.08 a frame goes silent; above +0.1 the level no longer rises."""
    smoothing_frames: int = 9
    """Offsets and slopes are smoothed over this many frames (about 0.1 s), so neighbouring frames move
    together (a frame's offset reaches its neighbours too)."""


def smooth_frames(values: torch.Tensor, frames: int) -> torch.Tensor:
    """`values` `(batch, frames)` averaged over a centred window of `frames` (edges repeated)."""
    if frames <= 1:
        return values
    padded = F.pad(values.unsqueeze(1), (frames // 2, frames - 1 - frames // 2), mode="replicate")
    return F.avg_pool1d(padded, frames, stride=1).squeeze(1)


def secant_slopes(slope: torch.Tensor, moved: torch.Tensor, level_change: torch.Tensor,
                  settings: LevelStartSettings) -> torch.Tensor:
    """Per frame `(batch, frames)`: the level change over the offset's move where the move was large enough,
    the previous `slope` elsewhere; clamped to `settings.slope_range`, then smoothed."""
    enough = moved.abs() >= settings.min_move
    measured = torch.where(enough, level_change / torch.where(enough, moved, torch.ones_like(moved)), slope)
    return smooth_frames(measured.clamp(*settings.slope_range), settings.smoothing_frames)


def next_offset(offset: torch.Tensor, residual_db: torch.Tensor, slope: torch.Tensor,
                settings: LevelStartSettings) -> torch.Tensor:
    """The secant step: `offset` `(batch, frames)` moved by the damped, smoothed `residual_db / slope`, each
    frame by at most `settings.max_step`, the result kept within `settings.offset_range`."""
    step = smooth_frames(settings.damping * residual_db / slope, settings.smoothing_frames)
    return (offset + step.clamp(-settings.max_step, settings.max_step)).clamp(*settings.offset_range)


def with_offset(x_T: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    """`x_T` `(batch, channels, frames)` with `offset` `(batch, frames)` added to every channel of each frame."""
    return x_T + offset.unsqueeze(1).to(x_T)


def level_control(controls: Sequence[Control]) -> IntensityControl | None:
    """The job's intensity control, when it has exactly one."""
    return only_control(controls, IntensityControl)


def level_start(x_T: torch.Tensor, control: IntensityControl, render: Callable[[torch.Tensor], torch.Tensor],
                settings: LevelStartSettings = LevelStartSettings(),
                good_enough: Callable[[], bool] = lambda: False) -> None:
    """Up to `settings.renders` renders of `x_T` `(batch, n_mels, frames)` with per-frame offsets found by the
    secant method. `render(x)` renders x, keeps it if it is the best so far (the caller's `BestRenders`) and
    returns its audio as heard `(batch, 1, samples)`; the iteration ends early when `good_enough()` says so."""
    offset = torch.zeros(x_T.shape[0], x_T.shape[-1], dtype=torch.float64)
    slope = torch.full_like(offset, settings.initial_slope)
    previous: tuple[torch.Tensor, torch.Tensor] | None = None
    for k in range(settings.renders):
        heard = render(with_offset(x_T, offset))
        if good_enough() or k == settings.renders - 1:
            break
        residual, levels = control.level_residual_db(heard)
        if previous is not None:
            slope = secant_slopes(slope, offset - previous[0], levels - previous[1], settings)
        previous = (offset, levels)
        offset = next_offset(offset, residual, slope, settings)
