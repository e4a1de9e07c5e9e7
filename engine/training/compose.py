"""Procedural parts for the training corpus: harmony from a melody, bass, chords, arpeggios and drums.

Every function is pure given its numpy Generator. Times of `Note`s are seconds from the clip start; the musical grid
(bars, beats) is a `Timeline` that maps quarter notes of the source piece to seconds. General MIDI programs are
0-based (0 = Acoustic Grand Piano); drum notes follow the GM percussion key map on channel 10.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

# --- data -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Note:
    """One note: `start` and `duration` in seconds, `pitch` a MIDI note number, `velocity` 1-127."""

    start: float
    duration: float
    pitch: int
    velocity: int


@dataclass(frozen=True)
class Part:
    """One instrument's notes. `program` is a 0-based GM program (for drums: the kit's preset in bank 128);
    `volume` is the channel volume (CC7, 0-127) that sets the mix balance."""

    role: str
    family: str
    program: int
    notes: tuple[Note, ...]
    volume: int = 100
    is_drums: bool = False


@dataclass(frozen=True)
class Instrument:
    """A GM program usable in some roles, with the MIDI range it sounds good in."""

    program: int
    name: str
    family: str
    low: int
    high: int


@dataclass(frozen=True)
class Meter:
    """A time signature in quarter notes: a 6/8 bar is 3 quarters with a beat of 1.5 (a dotted quarter)."""

    bar_quarters: float
    beat_quarters: float

    @property
    def beats_per_bar(self) -> int:
        return max(1, int(round(self.bar_quarters / self.beat_quarters)))

    @property
    def compound(self) -> bool:
        """Beats divide in three (6/8, 9/8, 12/8)."""
        return abs(self.beat_quarters - 1.5) < 1e-6 or abs(self.beat_quarters - 3.0) < 1e-6


@dataclass(frozen=True)
class Timeline:
    """Maps quarter notes of the source piece to seconds of the clip: clip time 0 is quarter `start_q`."""

    bpm: float
    meter: Meter
    start_q: float
    clip_seconds: float

    @property
    def seconds_per_quarter(self) -> float:
        return 60.0 / (self.bpm * self.meter.beat_quarters)

    @property
    def seconds_per_beat(self) -> float:
        return 60.0 / self.bpm

    @property
    def seconds_per_bar(self) -> float:
        return self.seconds_per_quarter * self.meter.bar_quarters

    @property
    def window_quarters(self) -> float:
        return self.clip_seconds / self.seconds_per_quarter

    def to_seconds(self, quarters: float) -> float:
        return (quarters - self.start_q) * self.seconds_per_quarter

    def bar_starts(self) -> list[float]:
        """Clip times (s) of the bar lines inside the clip, counting bars from `start_q` (a bar line)."""
        n = int(math.ceil(self.clip_seconds / self.seconds_per_bar)) + 1
        return [i * self.seconds_per_bar for i in range(n) if i * self.seconds_per_bar < self.clip_seconds]


@dataclass(frozen=True)
class Chord:
    """A chord by root pitch class (0-11) and quality; `pitch_classes` lists root, third, fifth (and seventh)."""

    root: int
    quality: str  # 'maj' | 'min' | 'dim'
    seventh: bool = False

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        third = {"maj": 4, "min": 3, "dim": 3}[self.quality]
        fifth = 6 if self.quality == "dim" else 7
        pcs = [self.root, (self.root + third) % 12, (self.root + fifth) % 12]
        if self.seventh:  # a minor seventh: dominant seventh on a major triad, minor seventh on a minor one
            pcs.append((self.root + 10) % 12)
        return tuple(pcs)

    def name(self) -> str:
        names = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
        suffix = {"maj": "", "min": "m", "dim": "dim"}[self.quality]
        return names[self.root] + suffix + ("7" if self.seventh else "")


@dataclass(frozen=True)
class Segment:
    """A chord held from `start` to `end`, clip seconds."""

    start: float
    end: float
    chord: Chord


# --- instruments --------------------------------------------------------------------------------------------------

INSTRUMENTS: dict[int, Instrument] = {i.program: i for i in (
    Instrument(0, "Acoustic Grand Piano", "piano", 48, 88),
    Instrument(1, "Bright Acoustic Piano", "piano", 48, 88),
    Instrument(4, "Electric Piano 1", "piano", 45, 84),
    Instrument(5, "Electric Piano 2", "piano", 45, 84),
    Instrument(6, "Harpsichord", "piano", 48, 84),
    Instrument(8, "Celesta", "mallet", 60, 96),
    Instrument(11, "Vibraphone", "mallet", 53, 89),
    Instrument(12, "Marimba", "mallet", 48, 84),
    Instrument(13, "Xylophone", "mallet", 65, 96),
    Instrument(16, "Drawbar Organ", "organ", 43, 84),
    Instrument(17, "Percussive Organ", "organ", 43, 84),
    Instrument(19, "Church Organ", "organ", 36, 84),
    Instrument(21, "Accordion", "organ", 53, 84),
    Instrument(24, "Acoustic Guitar (nylon)", "guitar", 45, 79),
    Instrument(25, "Acoustic Guitar (steel)", "guitar", 45, 79),
    Instrument(26, "Electric Guitar (jazz)", "guitar", 45, 79),
    Instrument(27, "Electric Guitar (clean)", "guitar", 45, 81),
    Instrument(29, "Overdriven Guitar", "guitar", 45, 79),
    Instrument(32, "Acoustic Bass", "bass", 28, 50),
    Instrument(33, "Electric Bass (finger)", "bass", 28, 52),
    Instrument(34, "Electric Bass (pick)", "bass", 28, 52),
    Instrument(35, "Fretless Bass", "bass", 28, 52),
    Instrument(38, "Synth Bass 1", "bass", 28, 52),
    Instrument(39, "Synth Bass 2", "bass", 28, 52),
    Instrument(40, "Violin", "strings", 57, 93),
    Instrument(41, "Viola", "strings", 50, 81),
    Instrument(42, "Cello", "strings", 38, 72),
    Instrument(45, "Pizzicato Strings", "strings", 43, 84),
    Instrument(46, "Orchestral Harp", "strings", 40, 91),
    Instrument(48, "String Ensemble 1", "strings", 43, 84),
    Instrument(49, "String Ensemble 2", "strings", 43, 84),
    Instrument(110, "Fiddle", "strings", 57, 88),
    Instrument(56, "Trumpet", "brass", 55, 82),
    Instrument(57, "Trombone", "brass", 40, 72),
    Instrument(58, "Tuba", "brass", 28, 55),
    Instrument(59, "Muted Trumpet", "brass", 55, 82),
    Instrument(60, "French Horn", "brass", 41, 77),
    Instrument(61, "Brass Section", "brass", 45, 79),
    Instrument(22, "Harmonica", "reed", 60, 84),
    Instrument(64, "Soprano Sax", "reed", 56, 87),
    Instrument(65, "Alto Sax", "reed", 49, 81),
    Instrument(66, "Tenor Sax", "reed", 44, 75),
    Instrument(68, "Oboe", "reed", 58, 89),
    Instrument(70, "Bassoon", "reed", 34, 67),
    Instrument(71, "Clarinet", "reed", 50, 89),
    Instrument(72, "Piccolo", "flute", 74, 100),
    Instrument(73, "Flute", "flute", 60, 93),
    Instrument(74, "Recorder", "flute", 60, 88),
    Instrument(75, "Pan Flute", "flute", 60, 88),
    Instrument(79, "Ocarina", "flute", 60, 86),
    Instrument(80, "Lead 1 (square)", "synth", 48, 88),
    Instrument(81, "Lead 2 (sawtooth)", "synth", 48, 88),
    Instrument(62, "Synth Brass 1", "synth", 48, 84),
    Instrument(88, "Pad 1 (new age)", "synth", 45, 84),
    Instrument(89, "Pad 2 (warm)", "synth", 45, 84),
    Instrument(90, "Pad 3 (polysynth)", "synth", 45, 84),
    Instrument(91, "Pad 4 (choir)", "synth", 45, 84),
    Instrument(95, "Pad 8 (sweep)", "synth", 45, 84),
)}

ROLE_PROGRAMS: dict[str, tuple[int, ...]] = {
    "melody": (0, 1, 4, 5, 6, 8, 11, 12, 13, 16, 19, 21, 24, 25, 26, 27, 29, 40, 41, 42, 45, 48, 110, 56, 57, 59,
               60, 61, 22, 64, 65, 66, 68, 70, 71, 72, 73, 74, 75, 79, 80, 81, 62),
    "bass": (32, 33, 34, 35, 38, 39),
    "chords": (0, 1, 4, 5, 11, 16, 17, 19, 21, 24, 25, 27, 48, 49, 61, 88, 89, 90, 91, 95),
    "arpeggio": (0, 4, 6, 8, 11, 12, 24, 25, 26, 45, 46, 80, 90),
    "chorale": (16, 19, 21, 48, 49, 61, 60, 89, 91, 0),
}
"""Programs each role draws from."""

SUSTAINED_FAMILIES = ("organ", "strings", "brass", "reed", "flute", "synth")

DRUM_KITS: dict[int, str] = {0: "Standard", 8: "Room", 16: "Power", 24: "Electronic", 25: "TR-808", 32: "Jazz",
                             40: "Brush"}
"""GM2 drum kits (bank 128 presets) the soundfont provides."""

KICK, RIM, SNARE, CLAP, CLOSED_HAT, PEDAL_HAT, OPEN_HAT = 36, 37, 38, 39, 42, 44, 46
LOW_TOM, MID_TOM, HIGH_TOM, CRASH, RIDE, TAMBOURINE, COWBELL = 45, 47, 50, 49, 51, 54, 56

# --- harmony ------------------------------------------------------------------------------------------------------

_MAJOR_DEGREES = ((0, "maj", 0.3), (2, "min", 0.05), (4, "min", 0.0), (5, "maj", 0.15), (7, "maj", 0.2),
                  (9, "min", 0.1))
_MINOR_DEGREES = ((0, "min", 0.3), (3, "maj", 0.05), (5, "min", 0.15), (7, "maj", 0.2), (8, "maj", 0.1),
                  (10, "maj", 0.05))


def diatonic_chords(tonic: int, mode: str) -> list[tuple[Chord, float]]:
    """Candidate chords of a key with a prior weight (tonic and dominant favoured; minor keys use a major V)."""
    degrees = _MINOR_DEGREES if mode == "minor" else _MAJOR_DEGREES
    return [(Chord((tonic + step) % 12, quality), prior) for step, quality, prior in degrees]


def harmonize(voices: list[list[tuple[float, float, int]]], segment_bounds: list[tuple[float, float]],
              tonic: int, mode: str, rng: np.random.Generator) -> list[Chord]:
    """One chord per segment: the diatonic triad that best covers the pitch classes sounding in it.

    voices: notes as (start_s, duration_s, pitch) in clip seconds. segment_bounds: (start_s, end_s) per segment.
    Score = duration-weighted coverage of chord tones (notes on the segment's first beat count 1.5x) minus half
    the weight of other pitch classes, plus a prior per degree. An empty segment keeps the previous chord.
    Dominant chords get a seventh with probability 0.3.
    """
    candidates = diatonic_chords(tonic, mode)
    chords: list[Chord] = []
    previous = candidates[0][0]
    for seg_start, seg_end in segment_bounds:
        weights = np.zeros(12)
        for voice in voices:
            for start, duration, pitch in voice:
                overlap = min(seg_end, start + duration) - max(seg_start, start)
                if overlap <= 0:
                    continue
                weights[pitch % 12] += overlap * (1.5 if abs(start - seg_start) < 0.05 else 1.0)
        if weights.sum() <= 0:
            chords.append(previous)
            continue
        total = weights.sum()
        best, best_score = previous, -np.inf
        for chord, prior in candidates:
            tones = weights[list(chord.pitch_classes)].sum()
            score = (tones - 0.5 * (total - tones)) / total + prior + (0.1 if chord == previous else 0.0)
            if score > best_score:
                best, best_score = chord, score
        if best.root == (tonic + 7) % 12 and best.quality == "maj" and rng.random() < 0.3:
            best = replace(best, seventh=True)
        chords.append(best)
        previous = replace(best, seventh=False)
    return chords


def stock_progression(tonic: int, mode: str, n: int, rng: np.random.Generator) -> list[Chord]:
    """`n` chords cycling a common progression of the key (I-V-vi-IV, i-VI-III-VII, ii-V-I, ...)."""
    major = ((0, 7, 9, 5), (0, 5, 7, 5), (2, 7, 0, 0), (0, 9, 5, 7), (0, 4, 5, 7))
    minor = ((0, 8, 3, 10), (0, 5, 7, 0), (0, 10, 8, 7), (0, 8, 5, 7))
    table = minor if mode == "minor" else major
    steps = table[int(rng.integers(len(table)))]
    quality_of = {c.root: c.quality for c, _ in diatonic_chords(tonic, mode)}
    quality_of.setdefault((tonic + 10) % 12, "maj")
    quality_of.setdefault((tonic + 4) % 12, "min")
    chords = []
    for i in range(n):
        root = (tonic + steps[i % len(steps)]) % 12
        chords.append(Chord(root, quality_of.get(root, "maj")))
    return chords


def segments_for(timeline: Timeline, rng: np.random.Generator) -> list[tuple[float, float]]:
    """Harmonic rhythm: one chord per bar, or per half bar when bars are long (4 beats) half the time."""
    bar = timeline.seconds_per_bar
    split = timeline.meter.beats_per_bar == 4 and rng.random() < 0.5
    step = bar / 2 if split else bar
    n = int(math.ceil(timeline.clip_seconds / step))
    return [(i * step, min((i + 1) * step, timeline.clip_seconds)) for i in range(n)]


# --- helpers ------------------------------------------------------------------------------------------------------


def _velocity(base: float, rng: np.random.Generator, spread: float = 6.0) -> int:
    return int(np.clip(round(base + rng.normal(0.0, spread)), 1, 127))


def _fit_octave(pitch_class: int, low: int, high: int, near: float) -> int:
    """The pitch of `pitch_class` inside [low, high] nearest to `near`."""
    options = [p for p in range(low, high + 1) if p % 12 == pitch_class]
    if not options:
        return int(low + (pitch_class - low) % 12)
    return min(options, key=lambda p: abs(p - near))


def _in_clip(notes: list[Note], clip_seconds: float) -> tuple[Note, ...]:
    kept = []
    for n in notes:
        start = max(0.0, n.start)
        if start >= clip_seconds - 0.01 or n.start + n.duration <= 0:
            continue
        kept.append(Note(round(start, 5), round(max(0.03, min(n.duration, clip_seconds + 0.5 - start)), 5),
                         int(n.pitch), int(n.velocity)))
    kept.sort(key=lambda n: (n.start, n.pitch))
    return tuple(kept)


# --- parts --------------------------------------------------------------------------------------------------------


def melody_part(notes: list[tuple[float, float, int]], instrument: Instrument, *, base_velocity: float,
                legato: float, timeline: Timeline, rng: np.random.Generator, role: str = "melody",
                volume: int = 110) -> Part:
    """A monophonic line from (start_s, duration_s, pitch) notes; `legato` (0-1] scales durations.

    Downbeat notes get an accent; long notes on sustained instruments get held to the next onset.
    """
    out = []
    beat = timeline.seconds_per_beat
    for i, (start, duration, pitch) in enumerate(notes):
        accent = 8.0 if abs((start / beat) - round(start / beat)) < 0.02 else 0.0
        held = duration * legato
        if instrument.family in SUSTAINED_FAMILIES and i + 1 < len(notes):
            gap = notes[i + 1][0] - (start + duration)
            if 0 < gap < 0.25:
                held = duration + gap * 0.9
        jitter = rng.normal(0.0, 0.004)
        out.append(Note(start + jitter, max(0.04, held), pitch, _velocity(base_velocity + accent, rng)))
    return Part(role, instrument.family, instrument.program, _in_clip(out, timeline.clip_seconds), volume)


def bass_part(segments: list[Segment], instrument: Instrument, *, style: str, base_velocity: float,
              timeline: Timeline, rng: np.random.Generator, volume: int = 100) -> Part:
    """A bass line over chord segments.

    style: 'long' (root held), 'beats' (root/fifth on each beat), 'eighths' (driving root with octave jumps),
    'walking' (chord tones and a chromatic approach to the next root), 'syncopated' (random 8th-grid rhythm).
    """
    beat = timeline.seconds_per_beat
    sub = 3 if timeline.meter.compound else 2
    notes: list[Note] = []
    for k, seg in enumerate(segments):
        root = _fit_octave(seg.chord.root, instrument.low, instrument.low + 14, instrument.low + 7)
        fifth = root + (6 if seg.chord.quality == "dim" else 7)
        length = seg.end - seg.start
        if style == "long":
            notes.append(Note(seg.start, length * 0.97, root, _velocity(base_velocity + 6, rng)))
            continue
        if style == "beats":
            n = max(1, int(round(length / beat)))
            for b in range(n):
                pitch = root if b % 2 == 0 else (fifth if fifth <= instrument.high else root - 5)
                notes.append(Note(seg.start + b * beat, beat * 0.8, pitch, _velocity(base_velocity + (8 if b == 0 else 0), rng)))
            continue
        if style == "eighths":
            step = beat / sub
            n = max(1, int(round(length / step)))
            for b in range(n):
                pitch = root + (12 if rng.random() < 0.12 else 0)
                notes.append(Note(seg.start + b * step, step * 0.7, pitch, _velocity(base_velocity + (10 if b % sub == 0 else 0), rng)))
            continue
        if style == "walking":
            n = max(1, int(round(length / beat)))
            tones = [root] + [root + (t - seg.chord.root) % 12 for t in seg.chord.pitch_classes[1:]]
            next_root = segments[k + 1].chord.root if k + 1 < len(segments) else seg.chord.root
            target = _fit_octave(next_root, instrument.low, instrument.low + 14, root)
            for b in range(n):
                if b == n - 1 and n > 1:
                    pitch = target + (1 if rng.random() < 0.5 else -1)
                else:
                    pitch = tones[int(rng.integers(len(tones)))] if b else root
                notes.append(Note(seg.start + b * beat, beat * 0.92, int(pitch), _velocity(base_velocity, rng)))
            continue
        if style == "syncopated":
            step = beat / sub
            n = max(1, int(round(length / step)))
            hits = [0] + [b for b in range(1, n) if rng.random() < 0.35]
            for j, b in enumerate(hits):
                end = hits[j + 1] if j + 1 < len(hits) else n
                pitch = root if rng.random() < 0.75 else (fifth if fifth <= instrument.high else root + 12)
                notes.append(Note(seg.start + b * step, (end - b) * step * 0.85, pitch, _velocity(base_velocity + (8 if b == 0 else 0), rng)))
            continue
        raise ValueError(f"bass_part: unknown style {style!r}; use long, beats, eighths, walking or syncopated")
    return Part("bass", "bass", instrument.program, _in_clip(notes, timeline.clip_seconds), volume)


def voice_chord(chord: Chord, previous: tuple[int, ...] | None, low: int = 52, high: int = 76) -> tuple[int, ...]:
    """A close-position voicing of `chord` inside [low, high], the inversion nearest the previous voicing."""
    pcs = chord.pitch_classes
    options = []
    for inversion in range(len(pcs)):
        order = pcs[inversion:] + pcs[:inversion]
        for base in range(low, high):
            if base % 12 != order[0]:
                continue
            voicing = [base]
            for pc in order[1:]:
                nxt = voicing[-1] + 1
                while nxt % 12 != pc:
                    nxt += 1
                voicing.append(nxt)
            if voicing[-1] <= high:
                options.append(tuple(voicing))
    if not options:
        raise ValueError(f"voice_chord: no voicing of {chord.name()} fits in MIDI {low}-{high}")
    centre = (low + high) / 2 if previous is None else float(np.mean(previous))
    return min(options, key=lambda v: (abs(np.mean(v) - centre), v))


def chords_part(segments: list[Segment], instrument: Instrument, *, style: str, base_velocity: float,
                timeline: Timeline, rng: np.random.Generator, volume: int = 85) -> Part:
    """Chords over segments. style: 'block' (held through the segment), 'stabs' (short, off the beat),
    'comp' (a rhythm drawn per clip on the beat grid, repeated each segment), 'waltz' (beats 2 and 3)."""
    beat = timeline.seconds_per_beat
    sub = 3 if timeline.meter.compound else 2
    low = max(instrument.low, 50)
    high = min(instrument.high, 79)
    notes: list[Note] = []
    previous = None
    comp_grid = [0] + [b for b in range(1, 4 * sub) if rng.random() < 0.3]
    for seg in segments:
        voicing = voice_chord(seg.chord, previous, low, high)
        previous = voicing
        length = seg.end - seg.start
        if style == "block":
            hits = [(0.0, length * 0.98, 4.0)]
        elif style == "stabs":
            n = max(1, int(round(length / beat)))
            hits = [(b * beat + beat / sub, beat / sub * 0.6, 0.0) for b in range(n)]
        elif style == "waltz":
            n = max(1, int(round(length / beat)))
            hits = [(b * beat, beat * 0.6, 0.0) for b in range(1, n)] or [(0.0, beat * 0.9, 0.0)]
        elif style == "comp":
            step = beat / sub
            cells = [c for c in comp_grid if c * step < length - 1e-6]
            hits = []
            for j, c in enumerate(cells):
                end = cells[j + 1] if j + 1 < len(cells) else length / step
                hits.append((c * step, (end - c) * step * 0.8, 6.0 if c == 0 else 0.0))
        else:
            raise ValueError(f"chords_part: unknown style {style!r}; use block, stabs, comp or waltz")
        for offset, duration, accent in hits:
            velocity = _velocity(base_velocity + accent, rng)
            roll = 0.012 if instrument.family in ("guitar",) else 0.0
            for i, pitch in enumerate(voicing):
                notes.append(Note(seg.start + offset + i * roll, duration, pitch, velocity))
    return Part("chords", instrument.family, instrument.program, _in_clip(notes, timeline.clip_seconds), volume)


def arpeggio_part(segments: list[Segment], instrument: Instrument, *, order: str, rate: int, ring: bool,
                  base_velocity: float, timeline: Timeline, rng: np.random.Generator, volume: int = 85) -> Part:
    """Broken chords: chord tones over two octaves in `order` ('up', 'down', 'updown', 'random'), `rate` notes per
    beat; `ring` lets each note sound to the end of its segment (harp, piano with pedal) instead of staccato."""
    beat = timeline.seconds_per_beat
    step = beat / rate
    low = max(instrument.low, 52)
    notes: list[Note] = []
    for seg in segments:
        base = _fit_octave(seg.chord.root, low, low + 11, low + 5)
        tones = sorted({base + (pc - seg.chord.root) % 12 + octave
                        for pc in seg.chord.pitch_classes for octave in (0, 12)})
        tones = [t for t in tones if t <= instrument.high] or [base]
        if order == "down":
            sequence = tones[::-1]
        elif order == "updown":
            sequence = tones + tones[-2:0:-1]
        elif order == "random":
            sequence = list(rng.permutation(tones))
        elif order == "up":
            sequence = tones
        else:
            raise ValueError(f"arpeggio_part: unknown order {order!r}; use up, down, updown or random")
        n = max(1, int(round((seg.end - seg.start) / step)))
        for i in range(n):
            start = seg.start + i * step
            duration = (seg.end - start) if ring else step * 0.75
            accent = 8.0 if i % rate == 0 else 0.0
            notes.append(Note(start, max(duration, step * 0.5), int(sequence[i % len(sequence)]),
                              _velocity(base_velocity + accent, rng)))
    return Part("arpeggio", instrument.family, instrument.program, _in_clip(notes, timeline.clip_seconds), volume)


DRUM_STYLES = ("backbeat", "four_floor", "half_time", "shuffle", "jazz", "toms", "breakbeat")


def drum_part(timeline: Timeline, *, style: str, kit: int, base_velocity: float, fill_bars: set[int],
              crash_bars: set[int], rng: np.random.Generator, volume: int = 105) -> Part:
    """A drum kit part on GM channel 10.

    style: one of DRUM_STYLES. fill_bars: bar indices whose last beat is a snare/tom fill; crash_bars: bars that
    open with a crash cymbal. Compound meters play their hats in threes whatever the style.
    """
    if style not in DRUM_STYLES:
        raise ValueError(f"drum_part: unknown style {style!r}; use one of {DRUM_STYLES}")
    beat = timeline.seconds_per_beat
    beats = timeline.meter.beats_per_bar
    sub = 3 if (timeline.meter.compound or style in ("shuffle", "jazz")) else (4 if rng.random() < 0.35 else 2)
    step = beat / sub
    ghost_p = 0.15 if style == "breakbeat" else 0.0
    kick_grid = {0} | {s for s in range(1, beats * sub) if rng.random() < 0.18} if style == "breakbeat" else set()
    tom_cycle = [HIGH_TOM, MID_TOM, LOW_TOM]
    notes: list[Note] = []
    swing = step * 0.33 if style == "shuffle" and not timeline.meter.compound else 0.0

    def hit(t: float, pitch: int, accent: float, length: float = 0.4) -> None:
        notes.append(Note(t + rng.normal(0.0, 0.003), length, pitch, _velocity(base_velocity + accent, rng, 5.0)))

    for bar_index, bar_start in enumerate(timeline.bar_starts()):
        if bar_index in crash_bars:
            hit(bar_start, CRASH, 10.0, 1.5)
        for b in range(beats):
            t_beat = bar_start + b * beat
            in_fill = bar_index in fill_bars and b == beats - 1
            if in_fill:
                n = 4 if sub != 3 else 3
                for i in range(n):
                    drum = SNARE if rng.random() < 0.5 else tom_cycle[min(i * len(tom_cycle) // n, 2)]
                    hit(t_beat + i * beat / n, drum, -10.0 + 8.0 * i)
                continue
            # kick and snare
            if style == "four_floor":
                hit(t_beat, KICK, 8.0)
                if b % 2 == 1:
                    hit(t_beat, CLAP if kit in (24, 25) else SNARE, 4.0)
            elif style == "backbeat":
                if b % 2 == 0 or (beats == 3 and b == 0):
                    hit(t_beat, KICK, 8.0)
                    if rng.random() < 0.25:
                        hit(t_beat + beat * (sub - 1) / sub, KICK, -6.0)
                if b % 2 == 1 and beats != 3:
                    hit(t_beat, SNARE, 6.0)
                if beats == 3 and b > 0:
                    hit(t_beat, SNARE, -8.0)
            elif style == "half_time":
                if b == 0:
                    hit(t_beat, KICK, 8.0)
                if b == beats // 2 and beats > 1:
                    hit(t_beat, SNARE, 8.0)
            elif style == "shuffle":
                if b % 2 == 0:
                    hit(t_beat, KICK, 6.0)
                else:
                    hit(t_beat, SNARE, 4.0)
            elif style == "jazz":
                if b == 0 and rng.random() < 0.6:
                    hit(t_beat, KICK, -12.0)
                if b % 2 == 1:
                    hit(t_beat, PEDAL_HAT, -6.0)
                if rng.random() < 0.2:
                    hit(t_beat + 2 * step, SNARE, -20.0)
            elif style == "toms":
                hit(t_beat, KICK if b % 2 == 0 else LOW_TOM, 6.0)
                for s in range(1, sub):
                    if rng.random() < 0.5:
                        hit(t_beat + s * step, tom_cycle[int(rng.integers(3))], -6.0)
            elif style == "breakbeat":
                for s in range(sub):
                    idx = b * sub + s
                    if idx in kick_grid:
                        hit(t_beat + s * step, KICK, 6.0 if s == 0 else 0.0)
                if b % 2 == 1:
                    hit(t_beat, SNARE, 8.0)
                for s in range(1, sub):
                    if rng.random() < ghost_p:
                        hit(t_beat + s * step, SNARE, -30.0)
            # cymbals
            if style == "jazz":
                hit(t_beat, RIDE, -4.0, 1.2)
                if b % 2 == 1:
                    hit(t_beat + beat * 2 / 3, RIDE, -14.0, 1.2)
            elif style == "toms":
                if rng.random() < 0.3:
                    hit(t_beat, TAMBOURINE, -10.0)
            else:
                for s in range(sub):
                    t = t_beat + s * step + (swing if s == 1 else 0.0)
                    open_hat = style == "four_floor" and sub == 2 and s == 1
                    accent = 0.0 if s == 0 else -10.0
                    hit(t, OPEN_HAT if open_hat else CLOSED_HAT, accent, 0.4 if open_hat else 0.2)
    return Part("drums", "drums", kit, _in_clip(notes, timeline.clip_seconds), volume, is_drums=True)


# --- post-processing ----------------------------------------------------------------------------------------------


def scale_velocities(part: Part, gain_at) -> Part:
    """Multiply each note's velocity by `gain_at(start_s)` (a section's level); notes at gain 0 are dropped."""
    notes = []
    for n in part.notes:
        g = float(gain_at(n.start))
        if g <= 0:
            continue
        notes.append(replace(n, velocity=int(np.clip(round(n.velocity * g), 1, 127))))
    return replace(part, notes=tuple(notes))


def silence(part: Part, start: float, end: float) -> Part:
    """Remove notes starting in [start, end) and cut notes that would sound into it."""
    notes = []
    for n in part.notes:
        if start <= n.start < end:
            continue
        if n.start < start and n.start + n.duration > start:
            n = replace(n, duration=max(0.02, start - n.start))
        notes.append(n)
    return replace(part, notes=tuple(notes))


def onset_rate(parts: list[Part], clip_seconds: float) -> float:
    """Distinct note onsets per second over all parts (onsets within 20 ms count once)."""
    onsets = sorted(n.start for p in parts for n in p.notes)
    distinct = 0
    last = -1.0
    for t in onsets:
        if t - last > 0.02:
            distinct += 1
            last = t
    return distinct / clip_seconds


def feel_tags(parts: list[Part], bpm: float, clip_seconds: float, mean_expression: float) -> list[str]:
    """'sparse'/'dense' from the onset rate, 'calm'/'energetic' from an energy score.

    onset rate r (distinct onsets per second): sparse when r < 2.5, dense when r >= 7.
    energy = 0.35 * tempo (70-170 BPM to 0-1) + 0.25 * drums present + 0.2 * min(r / 10, 1)
             + 0.2 * loudness (mean velocity x mean expression, 0-1); calm below 0.35, energetic from 0.6.
    """
    rate = onset_rate(parts, clip_seconds)
    velocities = [n.velocity for p in parts for n in p.notes]
    loudness = (np.mean(velocities) / 127.0 if velocities else 0.0) * mean_expression
    drums = any(p.is_drums and p.notes for p in parts)
    energy = (0.35 * float(np.clip((bpm - 70.0) / 100.0, 0, 1)) + 0.25 * float(drums)
              + 0.2 * min(rate / 10.0, 1.0) + 0.2 * float(loudness))
    tags = []
    if energy < 0.35:
        tags.append("calm")
    elif energy >= 0.6:
        tags.append("energetic")
    if rate < 2.5:
        tags.append("sparse")
    elif rate >= 7.0:
        tags.append("dense")
    return tags
