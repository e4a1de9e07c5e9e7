"""The loudness range a model reaches: the frame levels (dB of smoothed frame RMS) its music can be asked for.

An intensity target outside this range is split (`engine.controls.intensity.split_target`): the model is asked
for the part inside the range, and the rest is applied as gain on the written audio. Asking the model itself for
a level its training data never had makes it trade the music for the number (silence, then a burst).

- The built-in model reads its range from `weights/data_stats.json`, measured on the held-out corpus clips by
  `python -m engine.training.data_stats` (the `frame_db` entry; see that module for the percentiles used).
- Any other model uses `DEFAULT_RANGE` unless its adapter declares one: the level span that music mastered
  for listening sits in (quiet passages to loud ones), not a measurement of that model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from engine.errors import EngineError


@dataclass(frozen=True)
class LoudnessRange:
    """Frame levels in dB (smoothed 20 * log10 RMS, full scale 0 dB) that a model's music reaches."""

    low_db: float
    high_db: float
    source: str = "default"

    def __post_init__(self) -> None:
        if not -120.0 <= self.low_db < self.high_db <= 0.0:
            raise EngineError(f"loudness range: need -120 <= low < high <= 0 dB, got {self.low_db:g} .. "
                              f"{self.high_db:g} dB ({self.source})")


DEFAULT_RANGE = LoudnessRange(-36.0, -10.0, "default for models without a measured range")


def range_from_stats(path: Path) -> LoudnessRange:
    """The range stored in a data-statistics file (`{"frame_db": {"low": dB, "high": dB, ...}}`); the default
    when the file or the entry is missing."""
    try:
        stats = json.loads(Path(path).read_text())
        frame = stats["frame_db"]
        return LoudnessRange(float(frame["low"]), float(frame["high"]), f"measured: {Path(path).name}")
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_RANGE
