"""Warp markers: a warped clip's beat time to its audio file's time, piecewise linear.

Live reports each warp marker as ``{beat_time, sample_time}``: a position in the clip's beats and the time in
seconds into the audio file that plays there. Between markers the map is linear; before the first and after the
last marker it continues with the slope of the nearest segment (as Live extends the outer segments). A clip
with a single marker plays at `fallback_seconds_per_beat` (the song tempo) on both sides of it.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ditto_bridge.errors import RequestError
from ditto_bridge.translate import fields


@dataclass(frozen=True)
class WarpMarker:
    """One marker: clip position in beats, file position in seconds."""

    beat_time: float
    sample_time: float


@dataclass(frozen=True)
class WarpMap:
    """A monotonic piecewise-linear map between clip beats and file seconds."""

    markers: tuple[WarpMarker, ...]
    fallback_seconds_per_beat: float

    def __post_init__(self) -> None:
        if not self.markers:
            raise RequestError("clip.warp_markers: a warped clip needs at least one warp marker")
        for i in range(1, len(self.markers)):
            a, b = self.markers[i - 1], self.markers[i]
            if b.beat_time <= a.beat_time:
                raise RequestError(f"clip.warp_markers[{i}].beat_time: must be after the marker before it "
                                   f"({a.beat_time:g}), got {b.beat_time:g}")
            if b.sample_time <= a.sample_time:
                raise RequestError(f"clip.warp_markers[{i}].sample_time: must be after the marker before it "
                                   f"({a.sample_time:g} s), got {b.sample_time:g}")

    @classmethod
    def from_live(cls, raw: Any, seconds_per_beat: float, path: str = "clip.warp_markers") -> "WarpMap":
        """Parse Live's list of ``{beat_time, sample_time}`` objects (sample_time in seconds)."""
        items = raw if isinstance(raw, (list, tuple)) else None
        if items is None:
            raise fields.fail(path, "must be a list of {beat_time, sample_time}", raw)
        markers = []
        for i, item in enumerate(items):
            where = fields.join(path, i)
            item = fields.mapping(item, where)
            markers.append(WarpMarker(fields.get_number(item, "beat_time", where),
                                      fields.get_number(item, "sample_time", where, minimum=0.0)))
        return cls(tuple(markers), seconds_per_beat)

    def _segment(self, index: int) -> tuple[WarpMarker, float]:
        """Marker `index` and the slope (seconds per beat) of the segment starting there."""
        if len(self.markers) == 1:
            return self.markers[0], self.fallback_seconds_per_beat
        index = min(max(index, 0), len(self.markers) - 2)
        a, b = self.markers[index], self.markers[index + 1]
        return a, (b.sample_time - a.sample_time) / (b.beat_time - a.beat_time)

    def beat_to_seconds(self, beat: float) -> float:
        """Clip beat -> file seconds."""
        beats = [m.beat_time for m in self.markers]
        marker, slope = self._segment(bisect.bisect_right(beats, beat) - 1)
        return marker.sample_time + (beat - marker.beat_time) * slope

    def seconds_to_beat(self, seconds: float) -> float:
        """File seconds -> clip beat (the inverse map)."""
        times = [m.sample_time for m in self.markers]
        marker, slope = self._segment(bisect.bisect_right(times, seconds) - 1)
        return marker.beat_time + (seconds - marker.sample_time) / slope

    def beat_to_sample(self, beat: float, sample_rate: int) -> int:
        """Clip beat -> sample index in the file (rounded to the nearest sample)."""
        return int(math.floor(self.beat_to_seconds(beat) * sample_rate + 0.5))

    def beats_to_seconds_array(self, beats: np.ndarray) -> np.ndarray:
        """Vectorized `beat_to_seconds` for an array of clip beats (float64)."""
        beats = np.asarray(beats, dtype=np.float64)
        if len(self.markers) == 1:
            m = self.markers[0]
            return m.sample_time + (beats - m.beat_time) * self.fallback_seconds_per_beat
        xs = np.array([m.beat_time for m in self.markers])
        ys = np.array([m.sample_time for m in self.markers])
        out = np.interp(beats, xs, ys)
        first_slope = (ys[1] - ys[0]) / (xs[1] - xs[0])
        last_slope = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
        out = np.where(beats < xs[0], ys[0] + (beats - xs[0]) * first_slope, out)
        return np.where(beats > xs[-1], ys[-1] + (beats - xs[-1]) * last_slope, out)
