"""Melody start: before Adam, x_T leans toward the tune: each frame with a target pitch class gets a harmonic comb
of that pitch class added at its mel bins.

Why: the built-in model's latent is a log-mel, and its output follows what x_T holds at each bin. On the first 8
tune-split melody cases (default jobs' tags and seeds, 3-11-s clips, one DPM-Solver++ 10 render, no Adam), the
engine's melody accuracy (both readings, `engine.controls.melody`) was 0-7 % from the seeded noise alone and
58-86 % with a comb of amplitude 1.5 at the pitch class's note between C4 and B4. The note's own octave worked in
the middle and top registers but not low ones (0-9 % for tunes below C3), and since the control asks for a pitch
class, every tune is leaned toward in the C4-B4 octave.

How far to lean is a trade between speed and staying in the model's music. The same 8 cases as default jobs,
measured on the WAV (`benchmarks/producer_eval.py --split tune --tasks melody --n-melody 8`):

| amplitude | transcriber median / mean | seconds to WAV median / p90 | Adam steps median | FD-mel ratio |
|---|---|---|---|---|
| 0 (no lean) | 84.9 / 81.7 % | 46.9 / 62.8 | 26.5 | 0.98 |
| **0.5** | 91.4 / 90.9 % | 23.8 / 31.7 | 12.5 | 1.13 |
| 1.0 | 92.9 / 92.8 % | 13.8 / 19.8 | 8 | 2.80 |
| 1.5 | 95.1 / 94.2 % | 13.6 / 15.4 | 8 | 4.28 |

Above 0.5 the takes move away from the model's music (FD-mel against held-out music over the uncontrolled
takes' own, goal 1.3), so 0.5 it is.

The comb is made zero-mean in each frame. A frame's output level follows the mean of that frame of x_T over the
bins steeply (`engine.ditto.level_start`: +0.02 raises it 6-7 dB), and a comb of only positive bumps adds about
+0.023 to it: on held-out draw 0 the melody takes played 12.8 dB louder (median) than the uncontrolled takes of
the same cases, which alone put their FD-mel ratio at 1.58 (0.75 with every clip level-normalized). On the first
6 tune-split cases, default jobs, measured on the WAV:

| lean | level over the uncontrolled take, median | transcriber mean | seconds to WAV median | FD-mel ratio |
|---|---|---|---|---|
| none | +1.9 dB | 79 % | 27.2 | 1.30 |
| comb, 0.5 | +6.1 dB | 91 % | 14.1 | 1.31 |
| **zero-mean comb, 0.5** | +0.9 dB | 90 % | 14.4 | 1.15 |

Only for models whose latent frames are the mel's frames (`DiffusionModel.latent_frames_are_mel_frames`) and
whose latent channels are the mel bins; others start from their seeded noise.
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np
import torch

from engine.audio.mel import MelSpec, hz_to_mel, mel_to_hz
from engine.controls.base import Control, only_control
from engine.controls.melody import NO_PITCH, MelodyControl

LOWEST_TEMPLATE_NOTE = 60
"""Pitch class k is leaned toward as MIDI note 60 + k (C4 to B4)."""
COMB_HARMONICS = 6
COMB_DECAY = 0.8
COMB_HIGHEST_HZ = 6000.0
AMPLITUDE = 0.5
"""Height of the comb's fundamental, in x_T's units (the seeded noise has unit variance)."""


def mel_centres_hz(spec: MelSpec) -> np.ndarray:
    """Centre frequency in Hz of each mel band `(n_mels,)` (the filterbank's triangle peaks)."""
    points = mel_to_hz(np.linspace(hz_to_mel(spec.fmin), hz_to_mel(spec.fmax), spec.n_mels + 2))
    return points[1:-1]


@functools.lru_cache(maxsize=8)
def pitch_class_combs(spec: MelSpec) -> np.ndarray:
    """`(12, n_mels)`: row k is the harmonic comb of MIDI note LOWEST_TEMPLATE_NOTE + k: weight 0.8^(h-1) on the
    mel band nearest each harmonic h below 6 kHz (at most COMB_HARMONICS), 1 on the fundamental's band."""
    centres = mel_centres_hz(spec)
    combs = np.zeros((12, spec.n_mels))
    for pitch_class in range(12):
        fundamental = 440.0 * 2 ** ((LOWEST_TEMPLATE_NOTE + pitch_class - 69) / 12)
        for harmonic in range(1, COMB_HARMONICS + 1):
            if fundamental * harmonic > min(COMB_HIGHEST_HZ, spec.fmax):
                break
            combs[pitch_class, np.argmin(np.abs(centres - fundamental * harmonic))] += COMB_DECAY ** (harmonic - 1)
    return combs


def melody_lean(target: torch.Tensor, spec: MelSpec) -> torch.Tensor:
    """`(n_mels, frames)`: each frame's pitch-class comb for target pitch classes `target` `(frames,)`, less its
    mean over the bins, so the frame's mean (which sets its level) is unchanged (NO_PITCH: a column of zeros)."""
    combs = torch.as_tensor(pitch_class_combs(spec), dtype=torch.float32)
    active = target != NO_PITCH
    lean = torch.zeros(spec.n_mels, target.shape[-1])
    lean[:, active] = combs[target[active]].T
    return lean - lean.mean(dim=0, keepdim=True)


def melody_control(controls: Sequence[Control]) -> MelodyControl | None:
    """The job's melody control, when it has exactly one."""
    return only_control(controls, MelodyControl)


def melody_start(x_T: torch.Tensor, control: MelodyControl, amplitude: float = AMPLITUDE) -> torch.Tensor:
    """`x_T` `(batch, n_mels, frames)` plus `amplitude` x the comb of each frame's target pitch class."""
    return x_T + amplitude * melody_lean(control.target, control.spec).to(x_T)
