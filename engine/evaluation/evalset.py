"""The evaluation set: small data kept in the repository (`engine/evaluation/data/evalset.json`), fixed seeds.

- intensity: target loudness curves (seconds, dB of frame RMS): ramps, swells, dips, drops, smooth random curves;
- melody: the opening notes of held-out music21 pieces (never used in training clips), as notes in seconds with
  MIDI pitches (the pitch class is the target);
- structure: the forms AB, ABA, ABAB and AABA over the clip;
- in-painting, out-painting, looping: reference clips rendered at evaluation time by the training corpus's own
  recipe and synthesizer from held-out pieces (the recipe's inputs are stored here), with gaps of 2-4 s and
  overlaps of 1-3 s; the same references form the real-music set that FD-mel compares outputs with.

Build the file once from a corpus's melody cache (it stores the held-out pieces it uses, so evaluation needs no
corpus) and render the references into a folder when evaluating:

    python -m engine.evaluation.evalset build --corpus data/corpus
    python -m engine.evaluation.evalset render --out /tmp/eval_refs
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from engine.errors import EngineError
from engine.job import MelodyNote, Section

logger = logging.getLogger(__name__)

EVALSET_PATH = Path(__file__).resolve().parent / "data" / "evalset.json"
FORMAT_VERSION = 1
DURATION = 5.94
RECIPE_SEED = 20_240_117
FORMS = ("AB", "ABA", "ABAB", "AABA")


class EvalSetError(EngineError):
    """The evaluation set file is missing, from another version, or refers to something it does not hold."""


@dataclass(frozen=True)
class IntensityItem:
    name: str
    times: tuple[float, ...]
    db: tuple[float, ...]


@dataclass(frozen=True)
class MelodyItem:
    name: str
    piece_id: str
    bpm: float
    notes: tuple[MelodyNote, ...]

    def pitch_classes(self) -> tuple[int, ...]:
        return tuple(n.pitch % 12 for n in self.notes)


@dataclass(frozen=True)
class StructureItem:
    name: str
    sections: tuple[Section, ...]


@dataclass(frozen=True)
class ReferenceClip:
    """Clip `index` of the corpus recipe with seed `seed`, planned from the single stored piece `piece_id`."""

    name: str
    piece_id: str
    seed: int
    index: int
    archetype: str
    rms_db: float


@dataclass(frozen=True)
class InpaintItem:
    name: str
    reference: str
    gap_start: float
    gap_end: float


@dataclass(frozen=True)
class OverlapItem:
    """Out-painting or looping: `overlap` seconds shared with the reference."""

    name: str
    reference: str
    overlap: float


@dataclass(frozen=True)
class EvalSet:
    duration: float
    seeds: tuple[int, ...]
    intensity: tuple[IntensityItem, ...]
    melody: tuple[MelodyItem, ...]
    structure: tuple[StructureItem, ...]
    references: tuple[ReferenceClip, ...]
    inpaint: tuple[InpaintItem, ...]
    outpaint: tuple[OverlapItem, ...]
    loop: tuple[OverlapItem, ...]
    pieces: dict

    def reference(self, name: str) -> ReferenceClip:
        for clip in self.references:
            if clip.name == name:
                return clip
        raise EvalSetError(f"reference {name!r} is not in the evaluation set")


# ------------------------------------------------------------------------------------------------- reading


def load_evalset(path: Path | str = EVALSET_PATH) -> EvalSet:
    """Read the evaluation set (see the module docstring for how the file is made)."""
    path = Path(path)
    if not path.is_file():
        raise EvalSetError(f"no evaluation set at {path}; build it with `python -m engine.evaluation.evalset build "
                           "--corpus data/corpus`")
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format_version") != FORMAT_VERSION:
        raise EvalSetError(f"{path} has format {data.get('format_version')}, expected {FORMAT_VERSION}; rebuild it")
    return EvalSet(
        duration=float(data["duration"]),
        seeds=tuple(int(s) for s in data["seeds"]),
        intensity=tuple(IntensityItem(d["name"], tuple(d["times"]), tuple(d["db"])) for d in data["intensity"]),
        melody=tuple(MelodyItem(d["name"], d["piece_id"], float(d["bpm"]),
                                tuple(MelodyNote(n["start"], n["end"], n["pitch"]) for n in d["notes"]))
                     for d in data["melody"]),
        structure=tuple(StructureItem(d["name"], tuple(Section(s["start"], s["end"], s["label"])
                                                       for s in d["sections"])) for d in data["structure"]),
        references=tuple(ReferenceClip(**d) for d in data["references"]),
        inpaint=tuple(InpaintItem(**d) for d in data["inpaint"]),
        outpaint=tuple(OverlapItem(**d) for d in data["outpaint"]),
        loop=tuple(OverlapItem(**d) for d in data["loop"]),
        pieces=dict(data["pieces"]),
    )


# ------------------------------------------------------------------------------------------------- building


def intensity_targets(duration: float, seed: int) -> list[dict]:
    """Ramps, swells, dips, drops and two smooth random curves, in dB of frame RMS, within -34 to -14 dB (the
    training corpus's clips sit between -33 and -15 dB RMS, 1st to 99th percentile)."""
    d = round(duration, 2)
    third, half = round(d / 3, 2), round(d / 2, 2)
    items = [
        {"name": "ramp_up", "times": [0.0, d], "db": [-34.0, -14.0]},
        {"name": "ramp_down", "times": [0.0, d], "db": [-14.0, -34.0]},
        {"name": "swell", "times": [0.0, half, d], "db": [-34.0, -14.0, -34.0]},
        {"name": "dip", "times": [0.0, half, d], "db": [-14.0, -32.0, -14.0]},
        {"name": "drop", "times": [0.0, half - 0.05, half + 0.05, d], "db": [-14.0, -14.0, -34.0, -34.0]},
        {"name": "build_and_drop", "times": [0.0, 2 * third, 2 * third + 0.1, d], "db": [-34.0, -14.0, -30.0, -30.0]},
    ]
    rng = np.random.default_rng(seed)
    for k in range(2):
        times = np.linspace(0.0, d, 9)
        raw = rng.uniform(-32.0, -15.0, size=times.size)
        smooth = np.convolve(np.pad(raw, 1, mode="edge"), np.ones(3) / 3, mode="valid")
        items.append({"name": f"random_{k + 1}", "times": [round(float(t), 3) for t in times],
                      "db": [round(float(v), 2) for v in smooth]})
    return items


def melody_excerpt(piece, duration: float, *, target_note_seconds: float = 0.35) -> tuple[float, list[dict]] | None:
    """The piece's top voice from its first full measure, at a tempo that makes its median note about
    `target_note_seconds` long (60-160 beats per minute of quarter notes), cut to `duration` seconds."""
    melody = [n for n in piece.melody if n[1] > 0]
    if len(melody) < 8:
        return None
    offsets = piece.measure_offsets or [0.0]
    start_q = offsets[1] if len(offsets) > 1 and offsets[1] - offsets[0] < piece.bar_quarters - 1e-6 else offsets[0]
    median_q = float(np.median([n[1] for n in melody]))
    bpm = float(np.clip(60.0 * median_q / target_note_seconds, 60.0, 160.0))
    seconds_per_quarter = 60.0 / bpm
    notes = []
    for onset, length, pitch in melody:
        start = (onset - start_q) * seconds_per_quarter
        end = min(start + length * seconds_per_quarter, duration)
        if start < 0 or start >= duration - 0.05:
            continue
        notes.append({"start": round(start, 4), "end": round(end, 4), "pitch": int(pitch)})
    if len(notes) < 6:
        return None
    return round(bpm, 2), notes


def structure_forms(duration: float) -> list[dict]:
    """Each form's letters as equal sections over the clip."""
    items = []
    for form in FORMS:
        edges = np.linspace(0.0, duration, len(form) + 1)
        items.append({"name": form, "sections": [{"start": round(float(a), 4), "end": round(float(b), 4), "label": l}
                                                 for a, b, l in zip(edges[:-1], edges[1:], form)]})
    return items


def _rms_db(audio: np.ndarray) -> float:
    return round(float(10 * np.log10(np.mean(np.square(audio, dtype=np.float64)) + 1e-12)), 2)


def build_evalset(pieces: list, *, duration: float = DURATION, seed: int = RECIPE_SEED, n_melody: int = 8,
                  n_references: int = 12) -> dict:
    """The evaluation set as JSON-ready data, from held-out pieces (`engine.training.corpus.heldout_pieces`)."""
    from engine.training.corpus import render_clip
    from engine.training.corpus_recipe import plan_clip
    from engine.training.corpus_render import bundled_soundfont

    rng = np.random.default_rng(seed)
    order = [pieces[i] for i in rng.permutation(len(pieces))]
    melody, used = [], {}
    for piece in order:
        if len(melody) == n_melody:
            break
        excerpt = melody_excerpt(piece, duration)
        if excerpt is None:
            continue
        bpm, notes = excerpt
        melody.append({"name": piece.piece_id.split("/")[-1], "piece_id": piece.piece_id, "bpm": bpm, "notes": notes})
        used[piece.piece_id] = piece
    references = []
    soundfont = bundled_soundfont()
    for piece in order:
        if len(references) == n_references:
            break
        if piece.piece_id in used:
            continue
        base = 1000 * len(references)  # a different recipe draw (tempo, instruments, dynamics) per reference
        for index in range(base, base + 64):
            plan = plan_clip(seed, index, [piece])
            if plan.archetype != "drums":
                break
        else:
            continue
        audio = render_clip(plan, soundfont)
        references.append({"name": f"ref{len(references):02d}", "piece_id": piece.piece_id, "seed": seed,
                           "index": index, "archetype": plan.archetype, "rms_db": _rms_db(audio)})
        used[piece.piece_id] = piece
    if len(references) < n_references or len(melody) < n_melody:
        raise EvalSetError(f"only {len(melody)} melodies and {len(references)} references could be made from "
                           f"{len(pieces)} held-out pieces")
    names = [r["name"] for r in references]
    gaps = [(1.0, 3.0), (2.0, 5.0), (1.5, 4.0), (2.5, 4.5)]
    overlaps_out = [1.0, 2.0, 3.0, 1.5]
    overlaps_loop = [1.0, 2.0, 2.5, 1.5]
    return {
        "format_version": FORMAT_VERSION,
        "duration": duration,
        "recipe_seed": seed,
        "seeds": list(range(100, 108)),
        "intensity": intensity_targets(duration, seed),
        "melody": melody,
        "structure": structure_forms(duration),
        "references": references,
        "inpaint": [{"name": f"inpaint_{k}", "reference": names[k], "gap_start": a, "gap_end": b}
                    for k, (a, b) in enumerate(gaps)],
        "outpaint": [{"name": f"outpaint_{k}", "reference": names[4 + k], "overlap": o}
                     for k, o in enumerate(overlaps_out)],
        "loop": [{"name": f"loop_{k}", "reference": names[8 + k], "overlap": o} for k, o in enumerate(overlaps_loop)],
        "pieces": {pid: asdict(p) for pid, p in sorted(used.items())},
    }


# ------------------------------------------------------------------------------------------------- rendering


def render_references(evalset: EvalSet, folder: Path | str, names: list[str] | None = None) -> dict[str, Path]:
    """Render reference clips (all, or `names`) as 16-bit WAV files in `folder`; reuses files already there.

    Returns name -> path. Warns when a clip's level differs from the stored one (the recipe changed since the
    set was built: results are then not comparable with earlier runs).
    """
    import soundfile as sf

    from engine.training.corpus import render_clip
    from engine.training.corpus_melodies import Piece
    from engine.training.corpus_recipe import SAMPLE_RATE, plan_clip
    from engine.training.corpus_render import bundled_soundfont

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    soundfont = None
    for clip in evalset.references:
        if names is not None and clip.name not in names:
            continue
        path = folder / f"{clip.name}.wav"
        if not path.is_file():
            if clip.piece_id not in evalset.pieces:
                raise EvalSetError(f"reference {clip.name}: piece {clip.piece_id} is not stored in the set")
            soundfont = soundfont or bundled_soundfont()
            plan = plan_clip(clip.seed, clip.index, [Piece(**evalset.pieces[clip.piece_id])])
            audio = render_clip(plan, soundfont)
            if abs(_rms_db(audio) - clip.rms_db) > 0.5:
                logger.warning("reference %s renders at %.2f dB RMS, the set says %.2f dB: the corpus recipe has "
                               "changed since the set was built", clip.name, _rms_db(audio), clip.rms_db)
            sf.write(str(path), audio, SAMPLE_RATE, subtype="PCM_16")
        paths[clip.name] = path
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.evaluation.evalset", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="write the evaluation set from a corpus's held-out pieces")
    build.add_argument("--corpus", type=Path, default=Path("data/corpus"), help="folder with melody_cache.json")
    build.add_argument("--out", type=Path, default=EVALSET_PATH)
    render = commands.add_parser("render", help="render the reference clips as WAV files")
    render.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "build":
        from engine.training.corpus import heldout_pieces

        data = build_evalset(heldout_pieces(args.corpus))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.out}: {len(data['intensity'])} intensity, {len(data['melody'])} melody, "
              f"{len(data['structure'])} structure items, {len(data['references'])} references")
        return 0
    paths = render_references(load_evalset(), args.out)
    print(f"rendered {len(paths)} references into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
