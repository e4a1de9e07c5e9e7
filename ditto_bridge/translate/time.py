"""Beats, bars and tempo to seconds: the one place musical time becomes clock time.

Live counts positions in *beats* that are always quarter notes, whatever the signature's denominator: a bar of
6/8 is 3 beats long, a bar of 4/4 is 4. Tempo is in quarter notes per minute (BPM). Time signatures are assumed
constant over the rendered clip (Live's LOM exposes only the song's current signature and tempo).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ditto_bridge.errors import RequestError

MIN_BPM = 20.0
MAX_BPM = 999.0  # Live's tempo range
DENOMINATORS = (1, 2, 4, 8, 16)


@dataclass(frozen=True)
class SongTime:
    """A set's tempo (BPM, quarter notes per minute) and time signature."""

    tempo: float
    numerator: int = 4
    denominator: int = 4

    def __post_init__(self) -> None:
        if not (math.isfinite(self.tempo) and MIN_BPM <= self.tempo <= MAX_BPM):
            raise RequestError(f"song.tempo: must be between {MIN_BPM:g} and {MAX_BPM:g} BPM, got {self.tempo!r}")
        if not 1 <= self.numerator <= 99:
            raise RequestError(f"song.signature_numerator: must be between 1 and 99, got {self.numerator!r}")
        if self.denominator not in DENOMINATORS:
            raise RequestError(f"song.signature_denominator: must be one of {DENOMINATORS}, got {self.denominator!r}")

    @property
    def seconds_per_beat(self) -> float:
        """Seconds per quarter note."""
        return 60.0 / self.tempo

    @property
    def beats_per_bar(self) -> float:
        """Quarter notes per bar: numerator * 4 / denominator (4/4 -> 4, 6/8 -> 3, 7/16 -> 1.75)."""
        return self.numerator * 4.0 / self.denominator

    def beats_to_seconds(self, beats: float) -> float:
        """A duration or a position in beats (quarter notes) to seconds at this tempo."""
        return beats * self.seconds_per_beat

    def seconds_to_beats(self, seconds: float) -> float:
        return seconds / self.seconds_per_beat

    def bars_to_beats(self, bars: float) -> float:
        return bars * self.beats_per_bar

    def bars_to_seconds(self, bars: float) -> float:
        """Bars to seconds: 3 bars of 4/4 at 120 BPM are 12 beats of 0.5 s, 6.0 s."""
        return self.beats_to_seconds(self.bars_to_beats(bars))


def snap_bars(bars: float) -> int:
    """A length in bars snapped to whole bars: rounded half up, at least one bar."""
    if not math.isfinite(bars) or bars <= 0:
        raise RequestError(f"length_bars: must be a number greater than 0, got {bars!r}")
    return max(1, int(math.floor(bars + 0.5)))
