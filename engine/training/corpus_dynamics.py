"""Dynamics that change inside a clip: expression curves (MIDI CC11), sections at different levels, rests.

The training corpus must teach the model that loudness moves over time (DITTO's intensity control steers it), so
every clip draws one dynamics plan. Times are clip seconds; expression values are CC11 units 0-127 (the synth maps
them to gain, roughly 40*log10(value/127) dB); section gains multiply note velocities.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

DYNAMICS_KINDS: tuple[tuple[str, float], ...] = (
    ("steady", 0.12), ("crescendo", 0.17), ("decrescendo", 0.15), ("swell", 0.12), ("drop", 0.19),
    ("sections", 0.25),
)
"""Kinds of dynamics plan and how often each is drawn."""


@dataclass(frozen=True)
class Envelope:
    """Piecewise-linear expression curve: `values` (CC11, 0-127) at `times` (clip seconds, non-decreasing)."""

    times: tuple[float, ...]
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.times) != len(self.values) or not self.times:
            raise ValueError(f"Envelope: need as many times as values (got {len(self.times)} and "
                             f"{len(self.values)}), at least one")
        if any(b < a for a, b in zip(self.times, self.times[1:])):
            raise ValueError(f"Envelope: times must not decrease, got {self.times}")

    def at(self, t: np.ndarray | float) -> np.ndarray:
        """Expression at clip time(s) `t` seconds, clamped to the first/last value outside the breakpoints."""
        return np.clip(np.interp(t, self.times, self.values), 0.0, 127.0)


@dataclass(frozen=True)
class Section:
    """From `start` (s) to the next section: note velocities times `gain`; `muted` roles play nothing."""

    start: float
    gain: float
    muted: tuple[str, ...] = ()


@dataclass(frozen=True)
class DynamicsPlan:
    """What the loudness does in one clip.

    expression: CC11 curve sent to every channel. sections: velocity levels and muted roles (first starts at 0).
    rests: (start, end) seconds where every part is silent. crash_times: clip times where a new section
    lands (drums mark them with a crash; a fill precedes them).
    """

    kind: str
    expression: Envelope
    sections: tuple[Section, ...] = (Section(0.0, 1.0),)
    rests: tuple[tuple[float, float], ...] = ()
    crash_times: tuple[float, ...] = field(default=())

    def gain_at(self, t: float) -> float:
        gain = self.sections[0].gain
        for s in self.sections:
            if t >= s.start - 1e-9:
                gain = s.gain
        return gain

    def mean_expression(self, clip_seconds: float) -> float:
        """Mean of expression/127 over the clip (0-1)."""
        grid = np.linspace(0.0, clip_seconds, 200)
        return float(np.mean(self.expression.at(grid)) / 127.0)

    def describe(self) -> dict:
        return {"kind": self.kind,
                "expression": [[round(t, 3), round(v, 1)] for t, v in zip(self.expression.times,
                                                                          self.expression.values)],
                "sections": [{"start": round(s.start, 3), "gain": round(s.gain, 3), "muted": list(s.muted)}
                             for s in self.sections],
                "rests": [[round(a, 3), round(b, 3)] for a, b in self.rests]}


def _boundary(rng: np.random.Generator, grid: list[float], low: float, high: float) -> float:
    """A grid time (bar or beat line) in [low, high], or a uniform time there when the grid has none."""
    options = [g for g in grid if low <= g <= high]
    if options:
        return float(options[int(rng.integers(len(options)))])
    return float(rng.uniform(low, high))


def plan_dynamics(rng: np.random.Generator, *, clip_seconds: float, bar_starts: list[float],
                  beat_seconds: float, roles: tuple[str, ...]) -> DynamicsPlan:
    """Draw a dynamics plan for a clip whose bars start at `bar_starts` (s) and whose parts play `roles`.

    Kinds: steady (constant level), crescendo / decrescendo (a ramp between a quiet level, CC11 5-50, and a loud
    one, 105-127, over part of the clip), swell (up then down or down then up), drop (loud, then near silence —
    CC11 0-12 or a full rest — for 0.4-1.5 s at a bar or beat line, then back, suddenly or as a ramp), sections
    (2-3 sections at bar lines with velocity gains 0.35-1.0 that differ by at least 0.25 from one to the next,
    different CC11 levels, and an intro without drums and bass half of the time).
    On top of any kind except drop, a rest of 0.25-0.9 s falls at a beat line in 20 % of clips, and 10 % of clips
    start with 0.2-1.0 s of silence (a late entry).
    """
    T = clip_seconds
    kinds, weights = zip(*DYNAMICS_KINDS)
    kind = str(kinds[int(rng.choice(len(kinds), p=np.asarray(weights) / sum(weights)))])
    beats = [i * beat_seconds for i in range(int(T / beat_seconds) + 1)]
    inner_bars = [b for b in bar_starts if 0.0 < b < T]
    sections: tuple[Section, ...] = (Section(0.0, 1.0),)
    rests: list[tuple[float, float]] = []
    crashes: list[float] = []

    if kind == "steady":
        level = float(rng.uniform(85, 127))
        envelope = Envelope((0.0,), (level,))
    elif kind in ("crescendo", "decrescendo"):
        t0, t1 = float(rng.uniform(0.0, 0.4 * T)), float(rng.uniform(0.6 * T, T))
        quiet, loud = float(rng.uniform(5, 50)), float(rng.uniform(105, 127))
        a, b = (quiet, loud) if kind == "crescendo" else (loud, quiet)
        envelope = Envelope((0.0, t0, t1, T), (a, a, b, b))
    elif kind == "swell":
        tm = float(rng.uniform(0.35 * T, 0.65 * T))
        quiet, loud = float(rng.uniform(10, 50)), float(rng.uniform(105, 127))
        ends, middle = (quiet, loud) if rng.random() < 0.6 else (loud, quiet)
        envelope = Envelope((0.0, tm, T), (ends, middle, ends))
    elif kind == "drop":
        start = _boundary(rng, inner_bars + beats, 1.2, T - 1.6)
        length = float(rng.uniform(0.4, 1.5))
        end = min(start + length, T - 0.5)
        loud = float(rng.uniform(100, 127))
        floor = float(rng.uniform(0, 12))
        if rng.random() < 0.5:
            rests.append((start, end))
        if rng.random() < 0.5:  # sudden return
            envelope = Envelope((0.0, start, start + 0.03, end, end + 0.03, T),
                                (loud, loud, floor, floor, loud, loud))
        else:  # ramps back up
            envelope = Envelope((0.0, start, start + 0.03, end, T), (loud, loud, floor, floor, loud))
        crashes.append(end)
    elif kind == "sections":
        n = 3 if len(inner_bars) >= 2 and rng.random() < 0.5 else 2
        if len(inner_bars) >= n - 1:
            picks = sorted(rng.choice(len(inner_bars), size=n - 1, replace=False))
            starts = [0.0] + [inner_bars[int(i)] for i in picks]
        else:
            starts = [0.0] + sorted(_boundary(rng, beats, 1.0, T - 1.0) for _ in range(n - 1))
        gains: list[float] = []
        for _ in range(n):
            for _attempt in range(20):
                g = float(rng.uniform(0.35, 1.0))
                if not gains or abs(g - gains[-1]) >= 0.25:
                    break
            else:
                g = 1.0 if gains[-1] < 0.6 else 0.35
            gains.append(g)
        levels = [float(rng.uniform(50, 127)) for _ in range(n)]
        times, values = [], []
        for i, s in enumerate(starts):
            times += [s, (starts[i + 1] if i + 1 < n else T)]
            values += [levels[i], levels[i]]
        # short ramps between sections keep the curve a function of time
        for i in range(1, len(times) - 1, 2):
            times[i] = max(times[i - 1], times[i] - 0.02)
        envelope = Envelope(tuple(times), tuple(values))
        intro_muted = tuple(r for r in roles if r in ("drums", "bass")) if rng.random() < 0.5 else ()
        if set(intro_muted) == set(roles):
            intro_muted = ()  # an intro never mutes every part (that is what rests are for)
        sections = tuple(Section(s, g, intro_muted if i == 0 and n > 1 else ())
                         for i, (s, g) in enumerate(zip(starts, gains)))
        crashes += starts[1:]
    else:  # pragma: no cover - DYNAMICS_KINDS and this chain are kept in step
        raise AssertionError(kind)

    if kind != "drop":
        if rng.random() < 0.2:
            start = _boundary(rng, beats, 1.0, T - 1.2)
            rests.append((start, start + float(rng.uniform(0.25, 0.9))))
        if rng.random() < 0.1:
            rests.append((0.0, float(rng.uniform(0.2, 1.0))))
    return DynamicsPlan(kind, envelope, sections, tuple(sorted(rests)), tuple(crashes))
