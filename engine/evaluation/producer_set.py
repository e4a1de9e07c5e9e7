"""Producer-like evaluation cases: seeded, deterministic, in two disjoint splits (`tune` and `heldout`).

Each case is a seconds-based engine job (what `engine.job.Job.from_dict` reads) plus what its measurement needs:

- intensity: loudness curves a producer draws — ramps up and down, swells, drops, steps, wobbles and random curves
  of 2-8 breakpoints — with levels anywhere in -50 ... -3 dB, on clips of 3-12 s, under tag sets of one, two or
  many tags;
- melody: monophonic phrases from music21's corpus in several keys and registers, notes as {start, end, pitch}
  seconds. Half come from pieces the training corpus holds out (`engine.training.corpus_melodies.is_heldout` on
  its own sources), half from corpus files the training corpus never reads (Ryan's Mammoth tunes other than every
  third); no rendered corpus is needed;
- structure: the forms A B, A B A, A A B B and A B A C, with section lengths that vary by up to 15 %;
- inpaint, outpaint, loop: references are the model's own uncontrolled output for another seed and other tags
  (`ReferenceSpec`; the evaluation renders each once into its run folder, and jobs name it relative to that
  folder), gaps of 2-4 s and overlaps of 1-3 s as in the paper.

The splits draw from different seed streams, give jobs seeds from disjoint ranges and take melodies from disjoint
sets of pieces (a fixed hash of the piece id decides), so no case of one split appears in the other.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.errors import EngineError

SPLITS = ("tune", "heldout")
TASKS = ("intensity", "melody", "structure", "inpaint", "outpaint", "loop")
DEFAULT_COUNTS = {"intensity": 48, "melody": 24, "structure": 12, "inpaint": 12, "outpaint": 12, "loop": 12}
SEED_BASE = 20_261_201
JOB_SEED_RANGE = {"tune": (1_000_000, 2_000_000), "heldout": (2_000_000, 3_000_000)}
"""Job seeds of each split lie in its own range, so no two splits share an initial noise."""

LEVEL_RANGE_DB = (-50.0, -3.0)
INTENSITY_SECONDS = (3.0, 12.0)
MELODY_SECONDS = (4.0, 8.0)
STRUCTURE_SECONDS = (5.0, 10.0)
GAP_SECONDS = (2.0, 4.0)
OVERLAP_SECONDS = (1.0, 3.0)
REFERENCE_SECONDS = (4.0, 8.0)
SHAPES = ("ramp_up", "ramp_down", "swell", "drop", "steps", "wobble", "random")
FORMS = ("AB", "ABA", "AABB", "ABAC")
REGISTERS = {"low": 50, "mid": 62, "high": 74}
"""Median MIDI pitch a phrase is moved to (by octaves, after a random transposition)."""

TAG_SETS: tuple[tuple[str, ...], ...] = (
    ("piano",),
    ("strings",),
    ("drums",),
    ("synth",),
    ("piano", "calm"),
    ("guitar", "minor"),
    ("drums", "fast"),
    ("bass", "energetic"),
    ("piano", "bass", "drums", "strings", "mid", "major", "dense"),
    ("guitar", "bass", "drums", "fast", "minor", "energetic"),
    ("organ", "strings", "slow", "major", "calm", "sparse"),
    ("synth", "bass", "drums", "mid", "minor", "dense"),
    ("flute", "strings", "slow", "minor", "calm"),
)
MELODIC_TAG_SETS: tuple[tuple[str, ...], ...] = tuple(t for t in TAG_SETS if t != ("drums",) and t != ("drums", "fast"))
"""Tag sets for melody cases: a drums-only clip has no tune to follow."""


class ProducerSetError(EngineError):
    """The producer set cannot be made as asked (unknown split or task, a count below zero, too few pieces)."""


@dataclass(frozen=True)
class ReferenceSpec:
    """Reference audio for an in/out-paint or loop case: the model's uncontrolled output for `seed` and `tags`,
    `duration` seconds long, written to `path` (relative to the run folder)."""

    name: str
    seed: int
    tags: tuple[str, ...]
    duration: float

    @property
    def path(self) -> str:
        return f"references/{self.name}.wav"

    def job(self, model: str) -> dict[str, Any]:
        """The plain job (no controls) whose take is the reference."""
        return {"name": self.name, "duration": self.duration, "seed": self.seed, "tags": list(self.tags),
                "model": model}


@dataclass(frozen=True)
class Case:
    """One evaluation case: `job` is the engine job as JSON; `meta` says what was drawn (shape, form, piece, ...)."""

    id: str
    task: str
    split: str
    job: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)
    reference: ReferenceSpec | None = None


# ----------------------------------------------------------------------------------------------- helpers


def _rng(split: str, task: str, draw: int = 0) -> np.random.Generator:
    """The seed stream of a split's task; `draw` > 0 gives a fresh set of cases from the same split."""
    return np.random.default_rng([SEED_BASE, SPLITS.index(split), TASKS.index(task)] + ([draw] if draw else []))


def case_prefix(split: str, draw: int) -> str:
    """How a case id starts: the split, and the draw when it is not the first."""
    return split if draw == 0 else f"{split}-d{draw}"


def _job_seed(rng: np.random.Generator, split: str) -> int:
    low, high = JOB_SEED_RANGE[split]
    return int(rng.integers(low, high))


def _seconds(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return round(float(rng.uniform(*bounds)), 2)


def _tag_cycle(rng: np.random.Generator, sets: tuple[tuple[str, ...], ...]):
    """Tag set of case k: the sets in turn from a random start, so every set appears once a task has as many
    cases as there are sets."""
    offset = int(rng.integers(len(sets)))
    return lambda k: sets[(offset + k) % len(sets)]


def _level(rng: np.random.Generator, low: float = LEVEL_RANGE_DB[0], high: float = LEVEL_RANGE_DB[1]) -> float:
    return round(float(rng.uniform(max(low, LEVEL_RANGE_DB[0]), min(high, LEVEL_RANGE_DB[1]))), 2)


# ----------------------------------------------------------------------------------------------- intensity


def intensity_curve(shape: str, duration: float, rng: np.random.Generator) -> tuple[list[float], list[float]]:
    """Breakpoints (seconds, dB) of one curve of `shape`, times within [0, duration], levels in LEVEL_RANGE_DB."""
    d = duration
    lo, hi = LEVEL_RANGE_DB
    if shape in ("ramp_up", "ramp_down"):
        a, b = _level(rng, lo, -15.0), _level(rng, -30.0, hi)
        while b - a < 8.0:
            a, b = _level(rng, lo, -15.0), _level(rng, -30.0, hi)
        start, end = (a, b) if shape == "ramp_up" else (b, a)
        t0, t1 = sorted(rng.uniform(0.0, 0.25 * d, 1).tolist() + rng.uniform(0.75 * d, d, 1).tolist())
        return [0.0, t0, t1, d], [start, start, end, end]
    if shape == "swell":
        edge, peak = _level(rng, lo, -20.0), _level(rng, -25.0, hi)
        while peak - edge < 8.0:
            edge, peak = _level(rng, lo, -20.0), _level(rng, -25.0, hi)
        top = float(rng.uniform(0.35, 0.65)) * d
        return [0.0, top, d], [edge, peak, _level(rng, edge - 5.0, edge + 5.0)]
    if shape == "drop":
        high, low = _level(rng, -25.0, hi), _level(rng, lo, -20.0)
        while high - low < 10.0:
            high, low = _level(rng, -25.0, hi), _level(rng, lo, -20.0)
        at = float(rng.uniform(0.3, 0.7)) * d
        return [0.0, at - 0.05, at + 0.05, d], [high, high, low, low]
    if shape == "steps":
        n = int(rng.integers(3, 6))
        edges = np.linspace(0.0, d, n + 1)
        times, db = [], []
        for k in range(n):
            level = _level(rng)
            times += [edges[k] + (0.05 if k else 0.0), edges[k + 1] - (0.05 if k < n - 1 else 0.0)]
            db += [level, level]
        return times, db
    if shape == "wobble":
        centre, depth = _level(rng, -40.0, -12.0), float(rng.uniform(3.0, 10.0))
        period = float(rng.uniform(0.75, 2.0))
        times = np.arange(0.0, d + 1e-9, period / 8)
        db = np.clip(centre + depth * np.sin(2 * np.pi * times / period + rng.uniform(0, 2 * np.pi)), lo, hi)
        return times.tolist(), db.tolist()
    if shape == "random":
        n = int(rng.integers(2, 9))
        times = np.sort(rng.uniform(0.0, d, n))
        return times.tolist(), [_level(rng) for _ in range(n)]
    raise ProducerSetError(f"unknown curve shape {shape!r}; choose from {', '.join(SHAPES)}")


def _clean_curve(times: list[float], db: list[float], duration: float) -> tuple[list[float], list[float]]:
    """Rounded breakpoints, non-decreasing, within the clip and the level range."""
    t = [min(max(round(float(x), 3), 0.0), duration) for x in times]
    t = [float(x) for x in np.maximum.accumulate(t)]
    v = [round(float(np.clip(x, *LEVEL_RANGE_DB)), 2) for x in db]
    return t, v


def intensity_cases(split: str, n: int, *, clip_seconds: float | None = None, draw: int = 0) -> list[Case]:
    rng = _rng(split, "intensity", draw)
    tags_of = _tag_cycle(rng, TAG_SETS)
    cases = []
    for k in range(n):
        shape = SHAPES[k % len(SHAPES)]
        duration = clip_seconds or _seconds(rng, INTENSITY_SECONDS)
        times, db = _clean_curve(*intensity_curve(shape, duration, rng), duration)
        tags = tags_of(k)
        case_id = f"{case_prefix(split, draw)}-intensity-{k:03d}"
        job = {"name": case_id, "duration": duration, "seed": _job_seed(rng, split), "tags": list(tags),
               "controls": [{"type": "intensity", "times": times, "db": db}]}
        cases.append(Case(case_id, "intensity", split, job, {"shape": shape, "tags": "+".join(tags)}))
    return cases


# ----------------------------------------------------------------------------------------------- melody


def _split_of_piece(piece_id: str) -> str:
    """Which split a piece's melodies belong to: a fixed hash of the id, independent of the training rule."""
    digest = hashlib.sha256(f"producer-set:{piece_id}".encode("utf-8")).hexdigest()
    return SPLITS[int(digest[:8], 16) % 2]


@functools.lru_cache(maxsize=1)
def melody_sources() -> dict[str, tuple[tuple[str, str], ...]]:
    """Candidate corpus files (source name, path relative to music21's corpus) of each split, in a fixed order:
    `corpus_heldout` — files of the training corpus's sources that its rule holds out; `music21` — Ryan's
    Mammoth tunes the training corpus never reads."""
    from engine.training.corpus_melodies import corpus_root, default_sources, is_heldout

    training = {f for source in default_sources() for f in source.files}
    heldout = [(s.name, f) for s in default_sources() if s.name in ("bach_chorales", "ryans_mammoth")
               for f in s.files if is_heldout(f)]
    root = corpus_root()
    unused = [("ryans_mammoth", str(p.relative_to(root))) for p in sorted((root / "ryansMammoth").glob("*.abc"))
              if str(p.relative_to(root)) not in training]
    out = {}
    for split in SPLITS:
        out[f"{split}/corpus_heldout"] = tuple(x for x in heldout if _split_of_piece(x[1]) == split)
        out[f"{split}/music21"] = tuple(x for x in unused if _split_of_piece(x[1]) == split)
    return out


@functools.lru_cache(maxsize=256)
def _pieces(source: str, path: str) -> tuple:
    from engine.training.corpus_melodies import extract_file

    return tuple(extract_file(source, path))


def phrase(melody: list[list[float]], *, measure_offsets: list[float], duration: float, rng: np.random.Generator,
           register: int) -> tuple[list[dict], float, int] | None:
    """A monophonic phrase of `duration` seconds from a note list `[[onset_q, length_q, midi], ...]`: starts on a
    measure in the first half of the tune, at a tempo that makes the median note 0.25-0.45 s, transposed by a
    random interval and then by octaves so its median pitch is near `register`. Returns (notes, bpm, shift) or
    None when fewer than 6 notes fit."""
    notes = [n for n in melody if n[1] > 0]
    if len(notes) < 8:
        return None
    starts = [m for m in measure_offsets if m <= notes[len(notes) // 2][0]] or [notes[0][0]]
    start_q = float(starts[int(rng.integers(len(starts)))])
    median_q = float(np.median([n[1] for n in notes]))
    bpm = float(np.clip(60.0 * median_q / rng.uniform(0.25, 0.45), 60.0, 160.0))
    spq = 60.0 / bpm
    shift = int(rng.integers(-6, 6))
    pitches = [n[2] + shift for n in notes if n[0] >= start_q]
    if not pitches:
        return None
    shift += 12 * int(round((register - float(np.median(pitches))) / 12))
    out = []
    for onset, length, pitch in notes:
        start = (onset - start_q) * spq
        if start < 0 or start >= duration - 0.1:
            continue
        end = min(start + length * spq, duration)
        out.append({"start": round(start, 3), "end": round(end, 3), "pitch": int(np.clip(pitch + shift, 0, 127))})
    for a, b in zip(out, out[1:]):  # monophonic: a note ends where the next begins
        a["end"] = min(a["end"], b["start"])
    out = [n for n in out if n["end"] - n["start"] >= 0.03]
    if len(out) < 6:
        return None
    return out, round(bpm, 2), shift


def melody_cases(split: str, n: int, *, clip_seconds: float | None = None, draw: int = 0) -> list[Case]:
    rng = _rng(split, "melody", draw)
    tags_of = _tag_cycle(rng, MELODIC_TAG_SETS)
    sources = melody_sources()
    pools = {kind: [sources[f"{split}/{kind}"][i] for i in rng.permutation(len(sources[f"{split}/{kind}"]))]
             for kind in ("corpus_heldout", "music21")}
    cases: list[Case] = []
    used: set[str] = set()
    registers = list(REGISTERS)
    while len(cases) < n:
        kind = ("corpus_heldout", "music21")[len(cases) % 2]
        if not pools[kind]:
            kind = "music21" if kind == "corpus_heldout" else "corpus_heldout"
        if not pools[kind]:
            raise ProducerSetError(f"only {len(cases)} melodies could be made for split {split!r}; asked {n}")
        source, path = pools[kind].pop(0)
        for piece in _pieces(source, path):
            if piece.piece_id in used:
                continue
            duration = clip_seconds or _seconds(rng, MELODY_SECONDS)
            register = registers[len(cases) % len(registers)]
            made = phrase(piece.melody, measure_offsets=piece.measure_offsets, duration=duration, rng=rng,
                          register=REGISTERS[register])
            if made is None:
                continue
            notes, bpm, shift = made
            used.add(piece.piece_id)
            k = len(cases)
            tags = tags_of(k)
            case_id = f"{case_prefix(split, draw)}-melody-{k:03d}"
            job = {"name": case_id, "duration": duration, "seed": _job_seed(rng, split), "tags": list(tags),
                   "controls": [{"type": "melody", "notes": notes}]}
            cases.append(Case(case_id, "melody", split, job,
                              {"piece_id": piece.piece_id, "pool": kind, "bpm": bpm, "transpose": shift,
                               "key_pc": (piece.tonic + shift) % 12, "mode": piece.mode, "register": register,
                               "tags": "+".join(tags)}))
            break
    return cases


# ----------------------------------------------------------------------------------------------- structure


def structure_cases(split: str, n: int, *, clip_seconds: float | None = None, draw: int = 0) -> list[Case]:
    rng = _rng(split, "structure", draw)
    tags_of = _tag_cycle(rng, TAG_SETS)
    cases = []
    for k in range(n):
        form = FORMS[k % len(FORMS)]
        duration = clip_seconds or _seconds(rng, STRUCTURE_SECONDS)
        lengths = rng.uniform(0.85, 1.15, len(form))
        edges = np.concatenate([[0.0], np.cumsum(lengths) / lengths.sum() * duration])
        edges = [round(float(e), 3) for e in edges]
        edges[-1] = duration
        tags = tags_of(k)
        case_id = f"{case_prefix(split, draw)}-structure-{k:03d}"
        job = {"name": case_id, "duration": duration, "seed": _job_seed(rng, split), "tags": list(tags),
               "controls": [{"type": "structure", "sections": [{"start": a, "end": b, "label": label}
                                                               for a, b, label in zip(edges, edges[1:], form)]}]}
        cases.append(Case(case_id, "structure", split, job, {"form": form, "tags": "+".join(tags)}))
    return cases


# ----------------------------------------------------------------------------------------------- references


def reference_cases(task: str, split: str, n: int, *, clip_seconds: float | None = None,
                    draw: int = 0) -> list[Case]:
    """In-painting (gap 2-4 s inside a 6-10 s clip, the reference as long as the clip), out-painting (overlap
    1-3 s, the reference 4-8 s) or looping with a reference (overlap 1-3 s). With `clip_seconds` (smoke runs)
    every clip and reference has that length and gaps and overlaps shrink to fit."""
    rng = _rng(split, task, draw)
    tags_of = _tag_cycle(rng, TAG_SETS)
    cases = []
    for k in range(n):
        tags = tags_of(k)
        ref_tags = tags_of(k + 1 + int(rng.integers(len(TAG_SETS) - 1)))  # never the case's own
        case_id = f"{case_prefix(split, draw)}-{task}-{k:03d}"
        if task == "inpaint":
            gap = clip_seconds * float(rng.uniform(0.25, 0.4)) if clip_seconds else float(rng.uniform(*GAP_SECONDS))
            duration = clip_seconds or round(float(rng.uniform(max(6.0, gap + 2.0), 10.0)), 2)
            start = float(rng.uniform(0.2 * duration, duration - gap - 0.2 * duration)) if clip_seconds else \
                float(rng.uniform(1.0, duration - gap - 1.0))
            gap_start, gap_end = round(start, 2), round(start + gap, 2)
            ref_duration = duration
            control = {"type": "inpaint", "gap": [gap_start, gap_end]}
            meta = {"gap": round(gap_end - gap_start, 2)}
        else:
            overlap = round(clip_seconds * float(rng.uniform(0.15, 0.33)) if clip_seconds
                            else float(rng.uniform(*OVERLAP_SECONDS)), 2)
            low = max(5.0, 2 * overlap + 1.0)
            duration = clip_seconds or round(float(rng.uniform(low, max(low, 10.0))), 2)
            ref_duration = clip_seconds or _seconds(rng, (max(REFERENCE_SECONDS[0], overlap + 1.0),
                                                           REFERENCE_SECONDS[1]))
            control = {"type": task, "overlap": overlap}
            meta = {"overlap": overlap}
        reference = ReferenceSpec(f"{case_id}-ref", _job_seed(rng, split), ref_tags, ref_duration)
        control["reference"] = reference.path
        job = {"name": case_id, "duration": duration, "seed": _job_seed(rng, split), "tags": list(tags),
               "controls": [control]}
        cases.append(Case(case_id, task, split, job, {**meta, "tags": "+".join(tags),
                                                       "reference_tags": "+".join(ref_tags)}, reference))
    return cases


# ----------------------------------------------------------------------------------------------- the set


def producer_cases(split: str = "heldout", counts: dict[str, int] | None = None, *,
                   clip_seconds: float | None = None, draw: int = 0) -> list[Case]:
    """Every case of `split`, task by task in `TASKS` order; `counts` per task (missing tasks: the defaults, 0
    skips a task). The first k cases of a task are the same whatever its count (a smaller run is a prefix).
    `draw` > 0 draws a fresh set from the same split (same seed range and pieces, other curves, seeds and
    choices), for a look at cases nobody has seen after the first draw was studied."""
    if split not in SPLITS:
        raise ProducerSetError(f"split {split!r}: choose from {', '.join(SPLITS)}")
    if draw < 0:
        raise ProducerSetError(f"draw must be >= 0, got {draw}")
    counts = {**DEFAULT_COUNTS, **(counts or {})}
    unknown = sorted(set(counts) - set(TASKS))
    if unknown:
        raise ProducerSetError(f"unknown task(s) {', '.join(unknown)}; choose from {', '.join(TASKS)}")
    bad = {t: c for t, c in counts.items() if c < 0}
    if bad:
        raise ProducerSetError(f"counts must be >= 0, got {bad}")
    cases: list[Case] = []
    for task in TASKS:
        n = counts[task]
        if n == 0:
            continue
        if task == "intensity":
            cases += intensity_cases(split, n, clip_seconds=clip_seconds, draw=draw)
        elif task == "melody":
            cases += melody_cases(split, n, clip_seconds=clip_seconds, draw=draw)
        elif task == "structure":
            cases += structure_cases(split, n, clip_seconds=clip_seconds, draw=draw)
        else:
            cases += reference_cases(task, split, n, clip_seconds=clip_seconds, draw=draw)
    return cases
