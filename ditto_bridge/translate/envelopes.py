"""Automation breakpoints (beat, parameter value) to an intensity curve (seconds, dB of frame RMS).

A breakpoint's value is in the parameter's own unit: dB (``unit: "db"``, the device's Intensity parameter),
or 0-1 (``unit: "normalized"``, a Live parameter's normalized value or a MIDI CC / 127) mapped linearly onto
``[min, max]`` dB. Between breakpoints the curve is linear (Live draws automation as straight segments); two
breakpoints at the same beat make a step. The curve is cut to the rendered clip ``[0, length]``: values at the
edges are interpolated, breakpoints outside are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ditto_bridge.errors import RequestError
from ditto_bridge.translate.time import SongTime

DB_FLOOR = -120.0
DB_CEILING = 20.0  # the engine's accepted range for frame RMS in dB
UNITS = ("db", "normalized")
NORMALIZED_MIN_DB, NORMALIZED_MAX_DB = -39.0, -14.0
"""Where a 0-1 value (a normalized automation value, a MIDI CC / 127) lands when the job names no ``min``/``max``:
inside the levels the built-in model's music reaches (-39.5 to -13.3 dB,
``engine.models.registry.load_model("builtin").loudness_range()``), so a control moved from bottom to top asks for
music the model can play, never for silence and a burst. The device's Intensity dial has the same range."""
DB_MIN_DB, DB_MAX_DB = -60.0, 0.0
"""The bounds of dB breakpoint values (``unit: "db"``) when the job names no ``min``/``max``. They may leave the
model's reach: the engine then asks the music for what it can play and applies the rest as gain, and says so."""


@dataclass(frozen=True)
class IntensityCurve:
    """Breakpoints in seconds from the start of the rendered clip and dB of frame RMS, times non-decreasing."""

    times: tuple[float, ...]
    db: tuple[float, ...]

    def to_control(self) -> dict:
        """The engine job's intensity control (JSON form)."""
        return {"type": "intensity", "times": list(self.times), "db": list(self.db)}


def value_to_db(value: float, *, unit: str, min_db: float, max_db: float) -> float:
    """A parameter value to dB: as is for ``db``, linear onto [min_db, max_db] for ``normalized`` (0-1)."""
    if unit == "normalized":
        return min_db + value * (max_db - min_db)
    return value


def interpolate(beats: Sequence[float], values: Sequence[float], at: float) -> float:
    """Linear interpolation of a non-decreasing breakpoint list, held constant outside it."""
    if at <= beats[0]:
        return values[0]
    if at >= beats[-1]:
        return values[-1]
    for i in range(1, len(beats)):
        if beats[i] >= at:
            b0, b1 = beats[i - 1], beats[i]
            if b1 == b0:
                return values[i]
            return values[i - 1] + (values[i] - values[i - 1]) * (at - b0) / (b1 - b0)
    return values[-1]


def breakpoints_to_curve(breakpoints: Sequence[tuple[float, float]], *, song: SongTime, length_beats: float,
                         min_db: float, max_db: float, unit: str = "db") -> IntensityCurve:
    """Breakpoints ``[(beat, value), ...]`` (beats from the rendered clip's start) -> `IntensityCurve` in seconds.

    Raises `RequestError` naming ``intensity.breakpoints[i]`` for unordered beats or values out of range.
    """
    if unit not in UNITS:
        raise RequestError(f"intensity.unit: must be one of {', '.join(UNITS)}, got {unit!r}")
    if not DB_FLOOR <= min_db < max_db <= DB_CEILING:
        raise RequestError(f"intensity.min/max: need {DB_FLOOR:g} <= min < max <= {DB_CEILING:g} dB, "
                           f"got min {min_db:g}, max {max_db:g}")
    if not breakpoints:
        raise RequestError("intensity.breakpoints: needs at least one breakpoint")
    beats, db = [], []
    lo, hi = (0.0, 1.0) if unit == "normalized" else (min_db, max_db)
    for i, (beat, value) in enumerate(breakpoints):
        if beats and beat < beats[-1]:
            raise RequestError(f"intensity.breakpoints[{i}]: beat {beat:g} is earlier than the breakpoint before "
                               f"it ({beats[-1]:g}); breakpoints must be in time order")
        if not lo <= value <= hi:
            raise RequestError(f"intensity.breakpoints[{i}]: value must lie in [{lo:g}, {hi:g}] "
                               f"({'normalized' if unit == 'normalized' else 'dB'}), got {value:g}")
        beats.append(float(beat))
        db.append(value_to_db(float(value), unit=unit, min_db=min_db, max_db=max_db))

    kept_beats = [0.0]
    kept_db = [interpolate(beats, db, 0.0)]
    for b, v in zip(beats, db):
        if 0.0 <= b <= length_beats:
            kept_beats.append(b)
            kept_db.append(v)
    kept_beats.append(length_beats)
    kept_db.append(interpolate(beats, db, length_beats))
    times = tuple(song.beats_to_seconds(b) for b in kept_beats)
    return IntensityCurve(times, tuple(kept_db))
