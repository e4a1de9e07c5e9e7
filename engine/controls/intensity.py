"""Intensity control: the smoothed loudness curve (dB) of the output follows a target curve (paper, sec. 4.2).

What the producer asks for (`requested_db`) is split against the model's loudness range
(`engine/models/loudness.py`): the music is asked for the target clamped into the range (`target_db`), and the
difference (`gain_db`) is applied to the written audio when the job allows it (`engine/audio/gain.py`).

The loss is computed on log-mel frames; render checks measure the decoded waveform (what the producer hears,
read by a listener's meter, `meter_db`) and hand the waveform-minus-mel difference back as `offset_db`, so the
loss tracks the WAV's loudness, not the mel's. A render that is digitally silent for `SILENT_SECONDS` where more
than `SILENT_TARGET_DB` was asked fails the control whatever its RMS error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from engine.audio.gain import apply_gain_db
from engine.audio.mel import MelSpec
from engine.controls.base import Control
from engine.features.intensity import intensity_db, meter_db, waveform_intensity_db
from engine.models.loudness import LoudnessRange

SILENT_DB = -90.0
"""A frame below this (unsmoothed waveform RMS, dBFS) is digital silence."""
SILENT_SECONDS = 0.25
SILENT_TARGET_DB = -45.0


def breakpoints_to_frames(times: tuple[float, ...], values: tuple[float, ...], spec: MelSpec,
                          frames: int) -> np.ndarray:
    """Piecewise-linear curve through (seconds, value) breakpoints, held at the ends, sampled at each frame."""
    return np.interp(spec.frame_times(frames), np.asarray(times, float), np.asarray(values, float))


def split_target(requested_db: np.ndarray, reach: LoudnessRange) -> tuple[np.ndarray, np.ndarray]:
    """`(music_db, gain_db)`, each shaped like `requested_db` `(frames,)`: what the music is asked for (clamped into
    `reach`) and the level difference left for gain (`requested - music`, 0 inside the range)."""
    music = np.clip(requested_db, reach.low_db, reach.high_db)
    return music, requested_db - music


def fit_frames(curve: np.ndarray, frames: int) -> np.ndarray:
    """Crop, or pad by repeating the last value, along the last axis to `frames`."""
    if curve.shape[-1] >= frames:
        return curve[..., :frames]
    pad = np.repeat(curve[..., -1:], frames - curve.shape[-1], axis=-1)
    return np.concatenate([curve, pad], axis=-1)


def _as_array(audio: torch.Tensor | np.ndarray) -> np.ndarray:
    """`audio` as a float64 numpy array of the same shape."""
    return audio.detach().double().cpu().numpy() if isinstance(audio, torch.Tensor) else np.asarray(audio, float)


def _mono(audio: torch.Tensor | np.ndarray) -> np.ndarray:
    """`(batch, samples)` float64: audio `(batch, channels, samples)` averaged over channels."""
    return _as_array(audio).mean(axis=1)


def audio_levels_db(audio: torch.Tensor | np.ndarray, spec: MelSpec, frames: int) -> np.ndarray:
    """Waveform loudness `(batch, frames)` in dB of audio `(batch, channels, samples)` at `spec.sample_rate`
    (channels averaged) as a listener's meter reads it (`engine.features.intensity.meter_db`), at the mel's frame
    times."""
    times = spec.frame_times(frames)
    return np.stack([meter_db(item, spec.sample_rate, times) for item in _mono(audio)])


def raw_levels_db(audio: torch.Tensor | np.ndarray, spec: MelSpec, frames: int) -> np.ndarray:
    """Unsmoothed waveform loudness `(batch, frames)` in dB on the mel's own framing (what finds digital
    silence), fitted to `frames`."""
    return np.stack([fit_frames(waveform_intensity_db(item, spec, smoothing_seconds=0.0), frames)
                     for item in _mono(audio)])


def silent_stretches(levels_db: np.ndarray, target_db: np.ndarray, inside: np.ndarray, spec: MelSpec
                     ) -> list[tuple[float, float]]:
    """[start, end) seconds of runs of digitally silent frames (unsmoothed `levels_db` `(frames,)` below
    SILENT_DB) at least SILENT_SECONDS long where `target_db` `(frames,)` asks for more than SILENT_TARGET_DB,
    inside the clip (`inside` `(frames,)` bool)."""
    bad = (levels_db < SILENT_DB) & (target_db > SILENT_TARGET_DB) & inside
    runs, start = [], None
    for index, flag in enumerate(np.append(bad, False)):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            if (index - start) / spec.frame_rate >= SILENT_SECONDS:
                runs.append((start / spec.frame_rate, index / spec.frame_rate))
            start = None
    return runs


@dataclass
class IntensityControl(Control):
    target_db: torch.Tensor = field(default=None)  # (frames,) what the music is asked for, dB
    mask: torch.Tensor = field(default=None)  # (frames,) 1 inside the clip, 0 in the padding
    spec: MelSpec = field(default_factory=MelSpec)
    requested_db: torch.Tensor | None = None  # (frames,) what the producer asked for; None: same as target_db
    gain: bool = True  # apply requested - target as gain on the written audio
    offset_db: torch.Tensor | None = None  # (batch, frames) waveform minus mel loudness at the last render check

    @property
    def gain_db(self) -> torch.Tensor:
        """`(frames,)` the level left to gain: requested - target where gain is on, else zeros."""
        if self.requested_db is None or not self.gain:
            return torch.zeros_like(self.target_db)
        return self.requested_db - self.target_db

    def loss(self, logmel: torch.Tensor) -> torch.Tensor:
        """Mean square error in dB^2 between the output's intensity and the music's target."""
        curve = intensity_db(logmel, self.spec)
        if self.offset_db is not None:
            curve = curve + self.offset_db.to(curve)
        return self._mse(curve, self.target_db)

    def metric(self, logmel: torch.Tensor) -> torch.Tensor:
        """Root mean square error in dB."""
        return self.loss(logmel).sqrt()

    def audio_metric(self, logmel: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        """RMS error in dB of the take as it will be written (`written_levels_db`) against the music's target,
        which is the written take's error against what was asked; a render with a silent stretch where sound was
        asked (`failures`) scores at least twice the tolerance."""
        levels = torch.from_numpy(self.written_levels_db(audio))
        error = self._mse(levels, self.target_db).sqrt()
        failing = torch.tensor([bool(item) for item in self.failures(audio)])
        return torch.where(failing, torch.clamp(error, min=2 * self.tolerance), error).to(logmel)

    def correct_toward(self, logmel: torch.Tensor, audio: torch.Tensor) -> None:
        """Remember the rendered take's loudness as written (less its gain) minus its mel's `(batch, frames)` for
        the loss."""
        levels = torch.from_numpy(self.written_levels_db(audio))
        self.offset_db = (levels - intensity_db(logmel.detach(), self.spec).cpu().double()).float()

    def written_levels_db(self, audio: torch.Tensor | np.ndarray) -> np.ndarray:
        """`(batch, frames)` dB: the loudness of `audio` `(batch, channels, samples)` at the mel's rate once this
        control's gain is applied as it will be on the written take (soft limiter included), less that gain.

        Compared with `target_db`, this is the written take against what the producer asked. It is not the
        music's loudness plus the gain: where the gain steps, the meter reads the step as a ramp, and where it
        is large, the limiter may bend peaks. Judging the music alone let takes through whose music read 1.26-1.56
        dB RMS against the music's target while the written take read 1.5-1.83 against the request (held-out
        draw 1, every miss a curve outside the tag set's reach)."""
        gain = self.gain_db.numpy().astype(np.float64)
        frames = self.target_db.shape[-1]
        if not np.abs(gain).any():
            return audio_levels_db(audio, self.spec, frames)
        written = apply_gain_db(_as_array(audio), gain, frame_rate=self.spec.frame_rate,
                                sample_rate=self.spec.sample_rate)
        return audio_levels_db(written.audio, self.spec, frames) - gain

    def level_residual_db(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The target minus the waveform's levels, zero outside the clip, and those levels, both `(batch, frames)`
        in dB, float64, for `audio` `(batch, 1, samples)` (what `engine.ditto.level_start` steers by)."""
        levels = torch.from_numpy(self.written_levels_db(audio)).double()
        residual = (self.target_db.double() - levels) * self.mask.double()
        return residual, levels

    def failures(self, audio: torch.Tensor | np.ndarray, target_db: np.ndarray | None = None) -> list[list[str]]:
        """Per batch item, what fails this control whatever its error: silent stretches where sound was asked
        (against `target_db` `(frames,)`, by default what the producer asked)."""
        frames = self.target_db.shape[-1]
        target = (self.requested_db if self.requested_db is not None else self.target_db).numpy()
        target = target if target_db is None else target_db
        raw = raw_levels_db(audio, self.spec, frames)
        inside = self.mask.numpy() > 0
        return [[f"digitally silent from {a:.2f} to {b:.2f} s where {target[int(a * self.spec.frame_rate)]:.0f} dB "
                 "was asked" for a, b in silent_stretches(levels, target, inside, self.spec)] for levels in raw]

    def _mse(self, curve: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        mask = self.mask.to(curve)
        return ((curve - target.to(curve)) ** 2 * mask).sum(-1) / mask.sum()
