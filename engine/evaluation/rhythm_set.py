"""Rhythm evaluation cases: seeded, deterministic, in two splits (`tune` and `heldout`) drawn from different seeds.

Each case is an engine job in seconds (one `rhythm` control, the clip's `duration`, `seed` and `tags`) with what
its measurement needs: the target onsets in seconds, their accents (0-1) and the target tempo in BPM. Cases
alternate between two sources, so any prefix of a split holds both:

- `drums`: the training corpus's own drum patterns — `engine.training.compose.drum_part` over a `Timeline` at a
  drawn tempo, meter (4/4, sometimes 3/4), style, GM kit, fills and crashes. Its notes' start times, merged when
  they start within `MERGE_SECONDS` of the first note of a group (a kick and a hat together), are the onsets; the
  loudest velocity of a group / 127 is its accent. The job carries them as `onsets` and `accents`;
- `grid`: step patterns as a producer draws them in the device — `straight` (eighths or sixteenths on the beat),
  `swung` (every second step late by 0.2-0.45 of a step), `syncopated` (off-beat figures such as the tresillo and
  the son clave, or random off-beat-heavy steps) and `beats` (no pattern: every beat, the bar's first accented).
  The job carries the `grid`; the target onsets are its steps over the clip, expanded here from the job schema's
  rule (`expand_grid`), independently of the engine's own expansion.

Tempi are whole BPM in 70-170, drawn in turn from the slow, mid and fast bands of the built-in model's tempo tags
(`engine.models.builtin.tags.tempo_band`) so every band is covered. Tags alternate between drum-bearing sets and
tonal sets without drums, all from the built-in model's vocabulary and without tempo tags (the rhythm control,
not a tag, is what sets the tempo). The splits draw from different seed streams and give jobs seeds from
disjoint ranges, so no case of one appears in the other; the held-out split is for the final measurement only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.errors import EngineError
from engine.evaluation.producer_set import case_prefix
from engine.models.builtin.tags import FAST_FROM_BPM, SLOW_BELOW_BPM, TEMPO_TAGS, tempo_band
from engine.training.compose import CLOSED_HAT, DRUM_KITS, DRUM_STYLES, KICK, Meter, Note, Part, Timeline, drum_part

SPLITS = ("tune", "heldout")
SOURCES = ("drums", "grid")
SOURCE_NAMES = {"drums": "drum pattern", "grid": "grid"}
DEFAULT_COUNT = 36
"""Cases per split: 18 drum patterns and 18 grids, 6 of each per tempo band."""
SEED_BASE = 20_261_215
JOB_SEED_RANGE = {"tune": (5_000_000, 6_000_000), "heldout": (6_000_000, 7_000_000)}
"""Job seeds of each split lie in its own range (and apart from the producer set's), so no two splits share an
initial noise."""

CLIP_SECONDS = 5.94
"""The default job's duration."""
TEMPO_RANGE = (70, 170)
TEMPO_BANDS = {"slow": (TEMPO_RANGE[0], int(SLOW_BELOW_BPM)), "mid": (int(SLOW_BELOW_BPM), int(FAST_FROM_BPM)),
               "fast": (int(FAST_FROM_BPM), TEMPO_RANGE[1] + 1)}
"""Whole BPM drawn from [low, high) in each band of the built-in model's tempo tags."""
MERGE_SECONDS = 0.010
"""Drum notes starting within this many seconds of a group's first note are one onset."""
GRID_KINDS = ("straight", "swung", "syncopated", "beats")
DEFAULT_BAR_ACCENTS = (1.0, 0.7)
"""A grid without a pattern plays every beat: the bar's first at 1.0, the others at 0.7 (the job schema's rule)."""
SWING_RANGE = (0.2, 0.45)
SYNCOPATED_FIGURES = {
    "tresillo": (1.0, 0, 0, 0.8, 0, 0, 0.8, 0),
    "son_clave": (1.0, 0, 0, 0.8, 0, 0, 0.8, 0, 0, 0, 0.8, 0, 0.9, 0, 0, 0),
    "offbeat_eighths": (0.4, 0, 1.0, 0),
    "anticipation": (1.0, 0, 0, 0.7, 0, 0, 0.7, 0, 0, 0, 0.8, 0, 0, 0.8, 0, 0),
}
"""Syncopated figures in sixteenths (one or two beats long, or a bar), repeated over the bar."""

DRUM_TAG_SETS: tuple[tuple[str, ...], ...] = (
    ("drums",),
    ("drums", "bass"),
    ("drums", "energetic"),
    ("drums", "bass", "guitar", "energetic"),
    ("drums", "bass", "synth", "dense"),
    ("drums", "bass", "piano", "major"),
    ("drums", "bass", "organ", "minor"),
    ("drums", "mallet", "sparse"),
)
TONAL_TAG_SETS: tuple[tuple[str, ...], ...] = (
    ("piano",),
    ("guitar", "minor"),
    ("bass", "synth"),
    ("strings", "major"),
    ("mallet", "sparse"),
    ("organ", "bass", "minor"),
    ("piano", "bass", "dense"),
    ("brass", "reed", "energetic"),
)
"""Tags of the cases: drum-bearing sets and tonal sets, alternating; no tempo tag (see the module docstring)."""


class RhythmSetError(EngineError):
    """The rhythm set cannot be made as asked (unknown split, a count below zero, a clip too short)."""


@dataclass(frozen=True)
class RhythmCase:
    """One case. `job` is the engine job as JSON; `onsets` (seconds, increasing, inside the clip) and `accents`
    (0-1) are its target; `tempo` is the tempo the producer set, in BPM; `meta` says what was drawn; `part` is the
    drum part a `drums` case was taken from (None for a grid)."""

    id: str
    split: str
    source: str
    job: dict[str, Any]
    onsets: tuple[float, ...]
    accents: tuple[float, ...]
    tempo: float
    meta: dict[str, Any] = field(default_factory=dict)
    part: Part | None = None

    @property
    def band(self) -> str:
        """The target tempo's band: slow (< 100 BPM), mid (100-134) or fast (>= 135)."""
        return tempo_band(self.tempo)

    @property
    def duration(self) -> float:
        return float(self.job["duration"])


# ----------------------------------------------------------------------------------------------- helpers


def _rng(split: str, source: str, draw: int = 0) -> np.random.Generator:
    """The seed stream of one source of one split; `draw` > 0 gives a fresh set of cases from the same split."""
    return np.random.default_rng([SEED_BASE, SPLITS.index(split), SOURCES.index(source)] + ([draw] if draw else []))


def _job_seed(rng: np.random.Generator, split: str) -> int:
    low, high = JOB_SEED_RANGE[split]
    return int(rng.integers(low, high))


def _cycle(rng: np.random.Generator, items: tuple) -> Any:
    """Item of case k: the items in turn from a random start."""
    offset = int(rng.integers(len(items)))
    return lambda k: items[(offset + k) % len(items)]


def _tempo(rng: np.random.Generator, band: str) -> int:
    low, high = TEMPO_BANDS[band]
    return int(rng.integers(low, high))


def merge_onsets(notes: tuple[Note, ...] | list[Note], *,
                 within: float = MERGE_SECONDS) -> tuple[list[float], list[float]]:
    """Onsets (seconds, rounded to 0.1 ms) and accents (loudest velocity / 127) of drum notes: a note starting
    within `within` seconds of the first note of the current group joins it."""
    onsets: list[float] = []
    loudest: list[int] = []
    for note in sorted(notes, key=lambda n: (n.start, n.pitch)):
        if onsets and note.start - onsets[-1] <= within:
            loudest[-1] = max(loudest[-1], note.velocity)
            continue
        onsets.append(note.start)
        loudest.append(note.velocity)
    return [round(t, 4) for t in onsets], [round(v / 127.0, 4) for v in loudest]


def expand_grid(grid: dict[str, Any], duration: float) -> tuple[list[float], list[float]]:
    """Onsets (seconds) and accents of a grid in its JSON form over a clip of `duration` s, by the job schema's
    rule: step i at ``start + i * 60 / (tempo * steps_per_beat)``, every odd step late by ``swing`` of a step,
    `pattern` an accent per step repeated to the clip's end (0 = rest); without a pattern, every beat (the bar's
    first at 1.0, the others at 0.7, swing applied to odd beats)."""
    tempo, start, swing = float(grid["tempo"]), float(grid.get("start", 0.0)), float(grid.get("swing", 0.0))
    if grid.get("pattern") is None:
        pattern = [DEFAULT_BAR_ACCENTS[0]] + [DEFAULT_BAR_ACCENTS[1]] * (int(grid.get("beats_per_bar", 4)) - 1)
        step = 60.0 / tempo
    else:
        pattern = [float(a) for a in grid["pattern"]]
        step = 60.0 / (tempo * int(grid.get("steps_per_beat", 4)))
    onsets, accents = [], []
    i = 0
    while start + i * step < duration:
        t = start + i * step + (swing * step if i % 2 == 1 else 0.0)
        accent = pattern[i % len(pattern)]
        if accent > 0 and t < duration:
            onsets.append(t)
            accents.append(accent)
        i += 1
    return onsets, accents


# ----------------------------------------------------------------------------------------------- drum patterns


def drum_cases(split: str, n: int, *, clip_seconds: float = CLIP_SECONDS, draw: int = 0) -> list[RhythmCase]:
    """`n` cases from the corpus's drum patterns (see the module docstring)."""
    rng = _rng(split, "drums", draw)
    band_of, style_of = _cycle(rng, TEMPO_TAGS), _cycle(rng, DRUM_STYLES)
    drum_tags, tonal_tags = _cycle(rng, DRUM_TAG_SETS), _cycle(rng, TONAL_TAG_SETS)
    kits = tuple(DRUM_KITS)
    cases = []
    for k in range(n):
        band, style = band_of(k), style_of(k)
        bpm = _tempo(rng, band)
        meter = Meter(3.0, 1.0) if rng.random() < 0.2 else Meter(4.0, 1.0)
        kit = int(kits[int(rng.integers(len(kits)))])
        base_velocity = round(float(rng.uniform(75.0, 105.0)), 1)
        timeline = Timeline(bpm=float(bpm), meter=meter, start_q=0.0, clip_seconds=clip_seconds)
        bars = len(timeline.bar_starts())
        fill_bars = {bars - 1} if bars > 1 and rng.random() < 0.3 else set()
        crash_bars = {0} if rng.random() < 0.5 else set()
        part_seed = int(rng.integers(2**31))
        part = drum_part(timeline, style=style, kit=kit, base_velocity=base_velocity, fill_bars=fill_bars,
                         crash_bars=crash_bars, rng=np.random.default_rng(part_seed))
        onsets, accents = merge_onsets(part.notes)
        tags = drum_tags(k // 2) if k % 2 == 0 else tonal_tags(k // 2)
        case_id = f"{case_prefix(split, draw)}-drums-{k:03d}"
        job = {"name": case_id, "duration": clip_seconds, "seed": _job_seed(rng, split), "tags": list(tags),
               "controls": [{"type": "rhythm", "onsets": onsets, "accents": accents}]}
        meta = {"source": "drums", "style": style, "kit": DRUM_KITS[kit], "meter": f"{meter.beats_per_bar}/4",
                "bpm": bpm, "band": band, "fill": bool(fill_bars), "crash": bool(crash_bars),
                "part_seed": part_seed, "tags": "+".join(tags), "tag_kind": "drums" if k % 2 == 0 else "tonal"}
        cases.append(RhythmCase(case_id, split, "drums", job, tuple(onsets), tuple(accents), float(bpm), meta,
                                part))
    return cases


# ----------------------------------------------------------------------------------------------- grids


def grid_pattern(kind: str, steps_per_beat: int, beats_per_bar: int,
                 rng: np.random.Generator) -> tuple[list[float] | None, str]:
    """One bar's step pattern (an accent 0-1 per step, None for `beats`) of a grid kind, and its figure's name."""
    steps = steps_per_beat * beats_per_bar
    if kind == "beats":
        return None, "beats"
    if kind in ("straight", "swung"):
        pattern = []
        for s in range(steps):
            if s % steps_per_beat == 0:
                pattern.append(1.0 if s == 0 else 0.8)
            elif s % (steps_per_beat // 2 or 1) == 0:
                pattern.append(0.6 if kind == "straight" or rng.random() < 0.8 else 0.0)
            else:
                pattern.append(0.4 if rng.random() < 0.6 else 0.0)
        return pattern, f"{kind}-{steps_per_beat}"
    if kind == "syncopated":
        if rng.random() < 0.5:
            name = str(rng.choice(sorted(SYNCOPATED_FIGURES)))
            figure = SYNCOPATED_FIGURES[name]
            return [float(figure[s % len(figure)]) for s in range(max(steps, len(figure)))], name
        pattern = []
        for s in range(steps):
            on_beat = s % steps_per_beat == 0
            hit = s == 0 or rng.random() < (0.25 if on_beat else 0.45)
            pattern.append(round(float(rng.uniform(0.5, 1.0)), 2) if hit else 0.0)
        return pattern, "random"
    raise RhythmSetError(f"unknown grid kind {kind!r}; choose from {', '.join(GRID_KINDS)}")


def grid_cases(split: str, n: int, *, clip_seconds: float = CLIP_SECONDS, draw: int = 0) -> list[RhythmCase]:
    """`n` cases from step grids (see the module docstring)."""
    rng = _rng(split, "grid", draw)
    band_of, kind_of = _cycle(rng, TEMPO_TAGS), _cycle(rng, GRID_KINDS)
    drum_tags, tonal_tags = _cycle(rng, DRUM_TAG_SETS), _cycle(rng, TONAL_TAG_SETS)
    cases = []
    for k in range(n):
        band, kind = band_of(k), kind_of(k)
        bpm = _tempo(rng, band)
        steps_per_beat = 4 if kind == "syncopated" else int(rng.choice([2, 4]))
        beats_per_bar = 3 if kind in ("straight", "beats") and rng.random() < 0.25 else 4
        pattern, figure = grid_pattern(kind, steps_per_beat, beats_per_bar, rng)
        swing = round(float(rng.uniform(*SWING_RANGE)), 2) if kind == "swung" else 0.0
        grid: dict[str, Any] = {"tempo": bpm, "steps_per_beat": steps_per_beat, "beats_per_bar": beats_per_bar,
                                "swing": swing, "start": 0.0}
        if pattern is not None:
            grid["pattern"] = pattern
        onsets, accents = expand_grid(grid, clip_seconds)
        tags = drum_tags(k // 2) if k % 2 == 0 else tonal_tags(k // 2)
        case_id = f"{case_prefix(split, draw)}-grid-{k:03d}"
        job = {"name": case_id, "duration": clip_seconds, "seed": _job_seed(rng, split), "tags": list(tags),
               "controls": [{"type": "rhythm", "grid": grid}]}
        meta = {"source": "grid", "kind": kind, "figure": figure, "steps_per_beat": steps_per_beat,
                "meter": f"{beats_per_bar}/4", "swing": swing, "bpm": bpm, "band": band, "tags": "+".join(tags),
                "tag_kind": "drums" if k % 2 == 0 else "tonal"}
        cases.append(RhythmCase(case_id, split, "grid", job, tuple(onsets), tuple(accents), float(bpm), meta))
    return cases


# ----------------------------------------------------------------------------------------------- the set


def rhythm_cases(split: str, n: int = DEFAULT_COUNT, *, clip_seconds: float | None = None,
                 draw: int = 0) -> list[RhythmCase]:
    """`n` cases of a split, alternating drum patterns and grids (a smaller `n` gives a prefix of a larger one);
    `clip_seconds` shortens every clip (smoke runs), default `CLIP_SECONDS`; `draw` > 0 is a fresh draw of the
    split (its cases differ from the first draw's, its job seeds stay in the split's range)."""
    if split not in SPLITS:
        raise RhythmSetError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
    if n < 0:
        raise RhythmSetError(f"n: must be 0 or more cases, got {n}")
    seconds = CLIP_SECONDS if clip_seconds is None else float(clip_seconds)
    if not (math.isfinite(seconds) and seconds >= 1.0):
        raise RhythmSetError(f"clip_seconds: must be at least 1 s (a beat at 70 BPM fits), got {clip_seconds}")
    if draw < 0:
        raise RhythmSetError(f"draw: must be 0 (the first draw) or more, got {draw}")
    drums = drum_cases(split, (n + 1) // 2, clip_seconds=seconds, draw=draw)
    grids = grid_cases(split, n // 2, clip_seconds=seconds, draw=draw)
    return [(drums if k % 2 == 0 else grids)[k // 2] for k in range(n)]


def target_drums(case: RhythmCase) -> Part:
    """A drum part that plays the case's target on the GM kit: the pattern itself for `drums`; for a grid, a kick
    on each onset of accent >= 0.75 and a closed hat on the others, velocity following the accent. Rendered, it
    shows how well the meter finds a target that is certainly there."""
    if case.part is not None:
        return case.part
    notes = tuple(Note(t, 0.1, KICK if a >= 0.75 else CLOSED_HAT, round(40 + 87 * a))
                  for t, a in zip(case.onsets, case.accents))
    return Part("drums", "drums", 0, notes, is_drums=True)
