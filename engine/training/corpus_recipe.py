"""The recipe of one training clip: which piece, tempo, key, instruments, parts and dynamics, and its tags.

`plan_clip(seed, index, pieces)` is pure: two numpy Generators seeded with `(seed, index, 0)` (the source: archetype,
piece, split) and `(seed, index, 1)` (everything else) decide the clip, so a clip can be re-made alone from its
index. Archetypes:

- band (48 %): a melody from the corpus, harmonized, with bass, chords and/or arpeggio, drums 3 times in 4;
- solo (14 %): the melody on one instrument, half the time with its own chords or arpeggio (piano, guitar, ...);
- chorale (12 %): a Bach chorale's four voices on an organ, a choir pad or a string, brass or wind ensemble;
- backing (12 %): bass, chords and/or arpeggio over a piece's harmony (or a stock progression), drums 3 in 5;
- drums (14 %): a drum kit alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from engine.training import compose
from engine.training.compose import INSTRUMENTS, ROLE_PROGRAMS, Chord, Meter, Part, Segment, Timeline
from engine.training.corpus_dynamics import DynamicsPlan, plan_dynamics
from engine.training.corpus_melodies import Piece, is_heldout
from engine.models.builtin.tags import tempo_band

SAMPLE_RATE = 22050
CLIP_SAMPLES = 512 * 256
CLIP_SECONDS = CLIP_SAMPLES / SAMPLE_RATE
"""A clip is 131,072 samples (512 mel frames of 256 samples), about 5.94 s at 22,050 Hz."""

BPM_RANGE = (70.0, 170.0)
PEAK_DBFS_RANGE = (-9.0, -1.0)
DRUMS_HELDOUT_FRACTION = 0.05
ARCHETYPES: tuple[tuple[str, float], ...] = (
    ("band", 0.48), ("solo", 0.14), ("chorale", 0.12), ("backing", 0.12), ("drums", 0.14),
)
SOURCE_WEIGHTS: dict[str, float] = {"bach_chorales": 0.25, "essen_folk": 0.35, "ryans_mammoth": 0.25,
                                     "oneills_1850": 0.15}
KEY_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
DRUM_METERS = ((Meter(4.0, 1.0), "4/4", 0.6), (Meter(3.0, 1.0), "3/4", 0.15), (Meter(3.0, 1.5), "6/8", 0.15),
               (Meter(2.0, 1.0), "2/4", 0.1))


@dataclass(frozen=True)
class ClipPlan:
    """Everything needed to render a clip and to describe it (its `meta`)."""

    index: int
    split: str
    archetype: str
    piece_id: str | None
    source: str | None
    title: str | None
    bpm: float
    time_signature: str
    key: str | None
    transpose: int
    start_quarter: float
    parts: tuple[Part, ...]
    dynamics: DynamicsPlan
    peak_dbfs: float
    tags: tuple[str, ...]
    melody_notes: tuple[tuple[float, float, int], ...] = field(default=())

    def meta(self) -> dict:
        """JSON-ready description: source piece, tempo, key, instruments, dynamics, tags, melody as played."""
        return {
            "index": self.index, "split": self.split, "archetype": self.archetype, "piece_id": self.piece_id,
            "source": self.source, "title": self.title, "bpm": round(self.bpm, 2),
            "time_signature": self.time_signature, "key": self.key, "transpose": self.transpose,
            "start_quarter": self.start_quarter,
            "instruments": [{"role": p.role, "family": p.family, "program": p.program, "drums": p.is_drums,
                             "name": (compose.DRUM_KITS[p.program] + " kit") if p.is_drums
                             else INSTRUMENTS[p.program].name, "notes": len(p.notes)}
                            for p in self.parts],
            "dynamics": self.dynamics.describe(), "peak_dbfs": round(self.peak_dbfs, 2), "tags": list(self.tags),
            "melody_notes": [[round(s, 4), round(d, 4), int(p)] for s, d, p in self.melody_notes],
        }


def _choice(rng: np.random.Generator, options: tuple) -> object:
    return options[int(rng.integers(len(options)))]


def _weighted(rng: np.random.Generator, table: tuple[tuple[str, float], ...]) -> str:
    names, weights = zip(*table)
    return str(names[int(rng.choice(len(names), p=np.asarray(weights) / sum(weights)))])


_POOLS: list[tuple[list[Piece], dict[str, list[Piece]], list[Piece]]] = []


def _pools(pieces: list[Piece]) -> tuple[dict[str, list[Piece]], list[Piece]]:
    """Pieces grouped by source, and the four-voice ones; remembered for the last list seen (planning a corpus
    calls this once per clip with the same list)."""
    if _POOLS and _POOLS[0][0] is pieces:
        return _POOLS[0][1], _POOLS[0][2]
    by_source: dict[str, list[Piece]] = {}
    for piece in pieces:
        by_source.setdefault(piece.source, []).append(piece)
    four_voice = [p for p in pieces if len(p.voices) == 4]
    _POOLS[:] = [(pieces, by_source, four_voice)]
    return by_source, four_voice


def choose_source(seed: int, index: int, pieces: list[Piece]) -> tuple[str, Piece | None, str]:
    """(archetype, piece or None, split) of clip `index`.

    A piece is drawn by source first (`SOURCE_WEIGHTS`, renormalized over the sources present; a source not in
    the table weighs as the mean) and then uniformly within it, so that the 1,000 Essen songs do not drown the rest.
    The split follows the piece (`is_heldout`); drums-only clips have no piece and go to the held-out split with
    probability 0.05.
    """
    rng = np.random.default_rng([seed, index, 0])
    archetype = _weighted(rng, ARCHETYPES)
    if archetype == "drums":
        return archetype, None, "heldout" if rng.random() < DRUMS_HELDOUT_FRACTION else "train"
    by_source, four_voice = _pools(pieces)
    if archetype == "chorale" and four_voice:
        pool = four_voice
    else:
        archetype = "band" if archetype == "chorale" else archetype
        names = sorted(by_source)
        default = float(np.mean(list(SOURCE_WEIGHTS.values())))
        weights = np.array([SOURCE_WEIGHTS.get(n, default) for n in names])
        pool = by_source[names[int(rng.choice(len(names), p=weights / weights.sum()))]]
    piece = pool[int(rng.integers(len(pool)))]
    return archetype, piece, "heldout" if is_heldout(piece.piece_id) else "train"


def tempo_beat_quarters(piece: Piece) -> float:
    """The note value the clip's BPM counts, in quarters: a dotted quarter in compound meters (6/8, 9/8, 6/4),
    a half note in cut time (2/2), a quarter otherwise (so 4/2 or 3/1 chorales are not played at 300 quarters
    per minute)."""
    if abs(piece.beat_quarters - 1.5) < 1e-6 or abs(piece.beat_quarters - 3.0) < 1e-6:
        return 1.5
    if piece.time_signature == "2/2":
        return 2.0
    return 1.0


def _excerpt(voice: list[list[float]], timeline: Timeline, length_q: float, shift: int) -> list[tuple[float, float, int]]:
    """Notes of `voice` sounding in the clip window, in clip seconds; the piece repeats when the window runs past
    its end."""
    start_q, window_q = timeline.start_q, timeline.window_quarters
    period = max(length_q, 1.0)
    notes = []
    repeats = int(math.ceil((start_q + window_q) / period)) + 1
    for k in range(repeats):
        for onset, duration, pitch in voice:
            q = onset + k * period
            if q + duration <= start_q or q >= start_q + window_q:
                continue
            notes.append((timeline.to_seconds(q), duration * timeline.seconds_per_quarter, int(pitch) + shift))
    notes.sort()
    return notes


def _octave_shift(notes: list[tuple[float, float, int]], low: int, high: int) -> int:
    """Multiple of 12 that puts the most notes inside [low, high] (ties: nearest the range centre)."""
    if not notes:
        return 0
    pitches = np.array([n[2] for n in notes])
    centre = (low + high) / 2

    def cost(s: int) -> tuple:
        shifted = pitches + s
        return (int(np.sum((shifted < low) | (shifted > high))), abs(float(np.median(shifted)) - centre))

    return min(range(-36, 37, 12), key=cost)


def _instrument(rng: np.random.Generator, role: str, exclude: set[int] = frozenset()) -> compose.Instrument:
    options = tuple(p for p in ROLE_PROGRAMS[role] if p not in exclude) or ROLE_PROGRAMS[role]
    return INSTRUMENTS[int(_choice(rng, options))]


def _drums(rng: np.random.Generator, timeline: Timeline, base_velocity: float, dynamics: DynamicsPlan) -> Part:
    meter = timeline.meter
    if meter.compound:
        style = _choice(rng, ("shuffle", "jazz", "toms", "backbeat"))
    elif meter.beats_per_bar == 3:
        style = _choice(rng, ("backbeat", "jazz", "toms"))
    else:
        style = _choice(rng, compose.DRUM_STYLES)
    kits = {"jazz": (32, 40), "four_floor": (24, 25, 0, 16), "breakbeat": (0, 8, 24, 25)}.get(style, (0, 8, 16, 32))
    kit = int(_choice(rng, kits))
    bars = timeline.bar_starts()
    crash_bars = {0} if rng.random() < 0.3 else set()
    fill_bars = set()
    for t in dynamics.crash_times:
        nearest = int(np.argmin([abs(b - t) for b in bars]))
        if abs(bars[nearest] - t) < 1e-3:
            crash_bars.add(nearest)
            if nearest > 0:
                fill_bars.add(nearest - 1)
    if len(bars) > 1 and rng.random() < 0.25:
        fill_bars.add(len(bars) - 1)
    return compose.drum_part(timeline, style=style, kit=kit, base_velocity=base_velocity, fill_bars=fill_bars,
                             crash_bars=crash_bars, rng=rng, volume=int(rng.integers(90, 118)))


def _accompaniment(rng: np.random.Generator, segments: list[Segment], timeline: Timeline, base_velocity: float,
                   *, want_bass: bool, want_chords: bool, want_arp: bool, used: set[int]) -> list[Part]:
    parts = []
    compound = timeline.meter.compound
    if want_bass:
        styles = ("long", "beats", "syncopated") if compound else ("long", "beats", "eighths", "walking", "syncopated")
        bass = _instrument(rng, "bass", used)
        used.add(bass.program)
        parts.append(compose.bass_part(segments, bass, style=str(_choice(rng, styles)), base_velocity=base_velocity,
                                       timeline=timeline, rng=rng, volume=int(rng.integers(85, 115))))
    if want_chords:
        styles = ("block", "stabs", "comp") + (("waltz",) if timeline.meter.beats_per_bar == 3 else ())
        keys = _instrument(rng, "chords", used)
        used.add(keys.program)
        style = "block" if keys.family == "synth" and rng.random() < 0.7 else str(_choice(rng, styles))
        parts.append(compose.chords_part(segments, keys, style=style, base_velocity=base_velocity - 8,
                                         timeline=timeline, rng=rng, volume=int(rng.integers(65, 100))))
    if want_arp:
        arp = _instrument(rng, "arpeggio", used)
        used.add(arp.program)
        rate = int(_choice(rng, (3,) if compound else (2, 4, 3)))
        parts.append(compose.arpeggio_part(segments, arp, order=str(_choice(rng, ("up", "down", "updown", "random"))),
                                           rate=rate, ring=bool(rng.random() < 0.4), base_velocity=base_velocity - 6,
                                           timeline=timeline, rng=rng, volume=int(rng.integers(65, 100))))
    return parts


CHORALE_ENSEMBLES: dict[str, tuple[tuple[int, ...], ...]] = {
    "organ": ((19,), (19,), (19,), (19,)),
    "pad": ((91, 89), (91, 89), (91, 89), (91, 89)),
    "strings": ((40, 48), (40, 41, 48), (41, 42, 48), (42,)),
    "brass": ((56, 60), (60,), (57, 60), (57, 58)),
    "winds": ((73, 68), (68, 71), (71, 70), (70,)),
    "mixed": ((73, 68, 40, 56, 71), (71, 41, 60, 68), (41, 60, 57, 70), (42, 70, 58, 57)),
}


def plan_clip(seed: int, index: int, pieces: list[Piece]) -> ClipPlan:
    """The full recipe of clip `index` of the corpus made with `seed` (see the module docstring)."""
    archetype, piece, split = choose_source(seed, index, pieces)
    rng = np.random.default_rng([seed, index, 1])
    bpm = float(rng.uniform(*BPM_RANGE))
    base_velocity = float(rng.uniform(55, 110))
    shift = 0
    key: str | None = None
    mode = "major"
    if piece is None:
        meter, signature, _ = DRUM_METERS[int(rng.choice(len(DRUM_METERS), p=[m[2] for m in DRUM_METERS]))]
        start_q = 0.0
        length_q = 0.0
    else:
        meter = Meter(piece.bar_quarters, tempo_beat_quarters(piece))
        signature = piece.time_signature
        window_q = CLIP_SECONDS * bpm * meter.beat_quarters / 60.0
        offsets = piece.measure_offsets or [0.0]
        if len(offsets) > 1 and offsets[1] - offsets[0] < piece.bar_quarters - 1e-6:
            offsets = offsets[1:]  # skip an anacrusis so bar lines fall on the grid
        fitting = [m for m in offsets if m + window_q <= piece.length_quarters] or offsets[:1]
        start_q = float(fitting[int(rng.integers(len(fitting)))])
        length_q = piece.length_quarters
        target = int(rng.integers(12))
        shift = ((target - piece.tonic + 6) % 12) - 6
        mode = piece.mode
        key = f"{KEY_NAMES[(piece.tonic + shift) % 12]} {mode}"
    timeline = Timeline(bpm=bpm, meter=meter, start_q=start_q, clip_seconds=CLIP_SECONDS)

    roles: list[str] = []
    if archetype == "drums":
        roles = ["drums"]
    elif archetype == "chorale":
        roles = ["voice1", "voice2", "voice3", "voice4"]
    elif archetype == "solo":
        roles = ["melody"]
    else:
        roles = (["melody"] if archetype == "band" else []) + ["bass", "chords", "arpeggio", "drums"]
    dynamics = plan_dynamics(rng, clip_seconds=CLIP_SECONDS, bar_starts=timeline.bar_starts(),
                             beat_seconds=timeline.seconds_per_beat, roles=tuple(roles))

    parts: list[Part] = []
    lead: Part | None = None
    tonic = None if piece is None else (piece.tonic + shift) % 12
    if archetype == "drums":
        parts.append(_drums(rng, timeline, base_velocity, dynamics))
    elif archetype == "chorale":
        ensemble = str(_choice(rng, tuple(CHORALE_ENSEMBLES)))
        voices = [_excerpt(v, timeline, length_q, shift) for v in piece.voices]
        legato = float(rng.uniform(0.85, 1.0))
        for v, (notes, choices) in enumerate(zip(voices, CHORALE_ENSEMBLES[ensemble])):
            instrument = INSTRUMENTS[int(_choice(rng, choices))]
            octave = 0 if ensemble == "organ" else _octave_shift(notes, instrument.low, instrument.high)
            notes = [(s, d, p + octave) for s, d, p in notes]
            part = compose.melody_part(notes, instrument, base_velocity=base_velocity - (0 if v == 0 else 6),
                                       legato=legato, timeline=timeline, rng=rng, role=f"voice{v + 1}",
                                       volume=110 if v == 0 else 95)
            parts.append(part)
        lead = parts[0]
    else:
        melody_raw = _excerpt(piece.melody, timeline, length_q, shift)
        all_voices = [_excerpt(v, timeline, length_q, shift) for v in piece.voices]
        used: set[int] = set()
        if archetype in ("band", "solo"):
            instrument = _instrument(rng, "melody")
            used.add(instrument.program)
            octave = _octave_shift(melody_raw, instrument.low, instrument.high)
            notes = [(s, d, p + octave) for s, d, p in melody_raw]
            legato = float(rng.uniform(0.55, 1.0))
            lead = compose.melody_part(notes, instrument, base_velocity=base_velocity + 5, legato=legato,
                                       timeline=timeline, rng=rng, volume=int(rng.integers(100, 125)))
            parts.append(lead)
        bounds = compose.segments_for(timeline, rng)
        if archetype == "backing" and rng.random() < 0.4:
            chords = compose.stock_progression(tonic, mode, len(bounds), rng)
        else:
            chords = compose.harmonize(all_voices, bounds, tonic, mode, rng)
        segments = [Segment(a, b, c) for (a, b), c in zip(bounds, chords)]
        if archetype == "solo":
            if lead.family in ("piano", "guitar", "mallet", "organ") and rng.random() < 0.5:
                style = "arpeggio" if rng.random() < 0.5 else "chords"
                same = INSTRUMENTS[lead.program]
                if style == "chords":
                    part = compose.chords_part(segments, same, style=str(_choice(rng, ("block", "comp"))),
                                               base_velocity=base_velocity - 12, timeline=timeline, rng=rng,
                                               volume=lead.volume - 15)
                else:
                    part = compose.arpeggio_part(segments, same, order="up", rate=2, ring=True,
                                                 base_velocity=base_velocity - 12, timeline=timeline, rng=rng,
                                                 volume=lead.volume - 15)
                parts.append(replace(part, program=lead.program, family=lead.family))
        else:
            want_arp = rng.random() < 0.45
            want_chords = (not want_arp) or rng.random() < 0.6
            want_bass = rng.random() < (0.85 if archetype == "band" else 0.9)
            parts += _accompaniment(rng, segments, timeline, base_velocity, want_bass=want_bass,
                                    want_chords=want_chords, want_arp=want_arp, used=used)
            if rng.random() < (0.75 if archetype == "band" else 0.6):
                parts.append(_drums(rng, timeline, base_velocity, dynamics))

    # dynamics on the notes: section levels, muted roles, rests
    processed = []
    for part in parts:
        part = compose.scale_velocities(part, dynamics.gain_at)
        for i, section in enumerate(dynamics.sections):
            if part.role in section.muted:
                end = dynamics.sections[i + 1].start if i + 1 < len(dynamics.sections) else CLIP_SECONDS
                part = compose.silence(part, section.start, end)
        for a, b in dynamics.rests:
            part = compose.silence(part, a, b)
        processed.append(part)
    if not any(p.notes for p in processed):  # a rest swallowed a sparse excerpt: drop the rests
        dynamics = replace(dynamics, rests=())
        processed = [compose.scale_velocities(p, dynamics.gain_at) for p in parts]
    parts = [p for p in processed if p.notes]
    lead_notes = ()
    if lead is not None:
        lead_part = next((p for p in parts if p.role == lead.role), None)
        if lead_part is not None:
            lead_notes = tuple((n.start, n.duration, n.pitch) for n in lead_part.notes)

    families = sorted({p.family for p in parts}, key=lambda f: f)
    tags = list(families) + [tempo_band(bpm)]
    if any(not p.is_drums for p in parts):
        tags.append(mode)
    tags += compose.feel_tags(parts, bpm, CLIP_SECONDS, dynamics.mean_expression(CLIP_SECONDS))
    return ClipPlan(index=index, split=split, archetype=archetype,
                    piece_id=None if piece is None else piece.piece_id,
                    source=None if piece is None else piece.source, title=None if piece is None else piece.title,
                    bpm=bpm, time_signature=signature, key=key, transpose=shift, start_quarter=start_q,
                    parts=tuple(parts), dynamics=dynamics, peak_dbfs=float(rng.uniform(*PEAK_DBFS_RANGE)),
                    tags=tuple(tags), melody_notes=lead_notes)
