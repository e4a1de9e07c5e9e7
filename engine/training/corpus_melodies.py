"""Melodies from music21's bundled corpus: extraction into a JSON cache, and the held-out split by piece.

Parsing scores with music21 takes tens of milliseconds per tune (seconds per multi-tune ABC file), so the corpus
recipe extracts note lists once into `melody_cache.json` and composes clips from that. Times in the cache are in
quarter notes (music21's `quarterLength`), pitches are MIDI note numbers.

A *piece* is one score: a Bach chorale file, or one tune of a multi-tune ABC file (id `path#index`). Piece ids are
paths relative to music21's corpus folder, so they read the same on every machine.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from dataclasses import asdict, dataclass, field
from pathlib import Path

from engine.safe_files import write_file

CACHE_VERSION = 1
HELDOUT_PER_MILLE = 50
"""A piece is held out when the first 8 hex digits of sha256(piece id), as an integer, modulo 1000 is below this."""


@dataclass(frozen=True)
class CorpusSource:
    """A group of corpus files: `name` tags the pieces; `files` are paths relative to music21's corpus folder."""

    name: str
    files: tuple[str, ...]


@dataclass
class Piece:
    """One score's note lists.

    voices: per voice (top voice first), notes as `[onset_quarters, duration_quarters, midi_pitch]`, onsets from
    the start of the score (an anacrusis starts at 0). tonic: pitch class 0-11 of the analysed key (C = 0).
    measure_offsets: onset in quarters of each measure of the top voice.
    """

    piece_id: str
    source: str
    title: str
    tonic: int
    mode: str
    time_signature: str
    bar_quarters: float
    beat_quarters: float
    length_quarters: float
    measure_offsets: list[float] = field(default_factory=list)
    voices: list[list[list[float]]] = field(default_factory=list)

    @property
    def melody(self) -> list[list[float]]:
        """The top voice, `[[onset_quarters, duration_quarters, midi_pitch], ...]`."""
        return self.voices[0]


class MelodyCacheError(RuntimeError):
    """The melody cache is missing, from another cache version, or holds no pieces."""


def corpus_root() -> Path:
    """music21's bundled corpus folder."""
    from music21 import corpus

    return Path(corpus.__file__).parent


def is_heldout(piece_id: str) -> bool:
    """Whether a piece belongs to the held-out split: a fixed hash of its id picks about 5 % of pieces."""
    digest = hashlib.sha256(piece_id.encode("utf-8")).hexdigest()
    return int(digest[:8], 16) % 1000 < HELDOUT_PER_MILLE


def default_sources() -> tuple[CorpusSource, ...]:
    """The files the corpus recipe draws melodies from (about 1,400 pieces).

    Bach chorales (four voices, ~370), three Essen folk song collections (German, Chinese, children's songs),
    every third tune of Ryan's Mammoth Collection (reels, jigs, hornpipes) and two files of O'Neill's 1850.
    """
    root = corpus_root()
    chorales = tuple(sorted(str(p.relative_to(root)) for p in (root / "bach").glob("bwv*.mxl")))
    ryans = tuple(sorted(str(p.relative_to(root)) for p in (root / "ryansMammoth").glob("*.abc")))[::3]
    return (
        CorpusSource("bach_chorales", chorales),
        CorpusSource("essen_folk", ("essenFolksong/altdeu10.abc", "essenFolksong/han1.abc",
                                    "essenFolksong/kinder0.abc")),
        CorpusSource("ryans_mammoth", ryans),
        CorpusSource("oneills_1850", ("oneills1850/0001-0050.abc", "oneills1850/0051-0100.abc")),
    )


def _voice_notes(part) -> list[list[float]]:
    notes = []
    for element in part.flatten().stripTies().notes:
        duration = float(element.quarterLength)
        if duration <= 0:  # grace notes
            continue
        if element.isChord:
            pitch = max(p.midi for p in element.pitches)
        else:
            pitch = element.pitch.midi
        notes.append([round(float(element.offset), 4), round(duration, 4), int(pitch)])
    notes.sort(key=lambda n: (n[0], -n[2]))
    # one note per onset (the highest) keeps each voice monophonic
    mono: list[list[float]] = []
    for note in notes:
        if mono and abs(mono[-1][0] - note[0]) < 1e-6:
            continue
        mono.append(note)
    return mono


def _piece_from_score(score, piece_id: str, source: str, max_voices: int) -> Piece | None:
    """Extract a Piece from a music21 Score, or None when it has no usable melody."""
    from music21 import meter

    parts = list(score.parts) or [score]
    if source == "bach_chorales" and len(parts) != 4:
        return None  # not a four-part chorale (cantata movements, instrumental pieces)
    voices = [_voice_notes(p) for p in parts[:max_voices]]
    voices = [v for v in voices if len(v) >= 8]
    if not voices:
        return None
    top = parts[0]
    signatures = list(top.recurse().getElementsByClass(meter.TimeSignature))
    signature = signatures[0] if signatures else meter.TimeSignature("4/4")
    bar_quarters = float(signature.barDuration.quarterLength)
    beat_quarters = float(signature.beatDuration.quarterLength)
    if bar_quarters <= 0 or beat_quarters <= 0:
        return None
    measures = [round(float(m.offset), 4) for m in top.getElementsByClass("Measure")]
    try:
        key = score.analyze("key")
        tonic, mode = key.tonic.pitchClass, key.mode
    except Exception as exc:  # music21 raises a variety of analysis errors on odd scores
        raise MelodyCacheError(f"{piece_id}: key analysis failed ({exc})") from exc
    if mode not in ("major", "minor"):
        mode = "major"
    length = max(n[0] + n[1] for v in voices for n in v)
    title = str(score.metadata.title) if score.metadata is not None and score.metadata.title else piece_id
    return Piece(piece_id=piece_id, source=source, title=title, tonic=int(tonic), mode=mode,
                 time_signature=signature.ratioString, bar_quarters=bar_quarters, beat_quarters=beat_quarters,
                 length_quarters=round(float(length), 4), measure_offsets=measures, voices=voices)


def extract_file(source: str, relative_path: str) -> list[Piece]:
    """All pieces of one corpus file (an Opus gives one piece per tune)."""
    from music21 import converter, stream

    parsed = converter.parse(str(corpus_root() / relative_path))
    max_voices = 4 if source == "bach_chorales" else 1
    if isinstance(parsed, stream.Opus):
        scores = [(f"{relative_path}#{i}", s) for i, s in enumerate(parsed.scores)]
    else:
        scores = [(relative_path, parsed)]
    pieces = []
    for piece_id, score in scores:
        try:
            piece = _piece_from_score(score, piece_id, source, max_voices)
        except MelodyCacheError:
            continue  # a tune whose key cannot be analysed is left out, like one without notes
        if piece is not None:
            pieces.append(piece)
    return pieces


def _is_multi_tune(relative_path: str) -> bool:
    return relative_path.startswith(("essenFolksong/", "oneills1850/"))


def _extract_job(job: tuple[str, str]) -> list[dict]:
    return [asdict(p) for p in extract_file(*job)]


def build_melody_cache(path: Path, sources: tuple[CorpusSource, ...] | None = None, *, workers: int = 1) -> list[Piece]:
    """Parse `sources` with music21 (in `workers` processes) and write the pieces to `path` as JSON.

    The result does not depend on `workers`: files are parsed independently and written in source order.
    """
    from music21 import VERSION_STR

    sources = default_sources() if sources is None else sources
    jobs = [(s.name, f) for s in sources for f in s.files]
    if workers > 1:
        # multi-tune files (Opus, seconds each) first so that no long file is left for last; results keep job order
        order = sorted(range(len(jobs)), key=lambda i: (not _is_multi_tune(jobs[i][1]), i))
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            shuffled = pool.map(_extract_job, [jobs[i] for i in order], chunksize=1)
        results = [None] * len(jobs)
        for i, result in zip(order, shuffled):
            results[i] = result
    else:
        results = [_extract_job(j) for j in jobs]
    pieces = [d for result in results for d in result]
    if not pieces:
        raise MelodyCacheError(f"no pieces could be extracted from {len(jobs)} corpus files")
    document = {"version": CACHE_VERSION, "music21": VERSION_STR,
                "sources": [asdict(s) for s in sources], "pieces": pieces}
    write_file(path, lambda handle: handle.write(json.dumps(document).encode("utf-8")))
    return [Piece(**d) for d in pieces]


def load_melody_cache(path: Path) -> list[Piece]:
    """Pieces of a cache written by `build_melody_cache`, in the order they were written."""
    path = Path(path)
    if not path.exists():
        raise MelodyCacheError(f"no melody cache at {path}; build it with "
                               f"`python -m engine.training.corpus --out {path.parent} ...`")
    document = json.loads(path.read_text())
    if document.get("version") != CACHE_VERSION:
        raise MelodyCacheError(f"{path} has cache version {document.get('version')}, expected {CACHE_VERSION}; "
                               f"delete it to rebuild")
    pieces = [Piece(**d) for d in document["pieces"]]
    if not pieces:
        raise MelodyCacheError(f"{path} holds no pieces; delete it to rebuild")
    return pieces
