"""Training corpus of the built-in music model: render N hours of varied music offline, reproducibly from a seed.

    python -m engine.training.corpus --out data/corpus --hours 12 --seed 0 --workers 2

Each clip (131,072 samples at 22,050 Hz, 512 mel frames, about 5.94 s) is planned by
`engine.training.corpus_recipe.plan_clip` from the seed and its index alone, rendered with a General MIDI
soundfont (`corpus_render`), peak-normalized as a whole, and stored as its natural-log mel
(`engine.audio.mel.log_mel`, HiFi-GAN settings). Layout under `--out`:

    manifest.json               seed, hours, clip counts, tag vocabulary, held-out piece ids, soundfont, settings
    melody_cache.json           note lists extracted from music21's corpus (built on first run)
    train/shard_XXXX.npz        mel float16 (N, 80, 512), tags uint8 (N, n_tags), meta (N,) JSON strings
    heldout/shard_XXXX.npz      the same plus audio float16 (N, 131072)

Pieces whose id hashes into the held-out 5 % (`corpus_melodies.is_heldout`) only ever appear in held-out clips.
The corpus does not depend on `--workers`: shards are fixed lists of clip indices, and every clip is rendered by a
fresh synthesizer from its own seeded generators.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from engine.audio.mel import MelSpec
from engine.models.builtin.tags import N_TAGS, TAGS, tags_to_multi_hot
from engine.safe_files import write_file
from engine.training import compose, corpus_dynamics, corpus_recipe
from engine.training.corpus_melodies import HELDOUT_PER_MILLE, Piece, build_melody_cache, is_heldout, load_melody_cache
from engine.training.corpus_recipe import CLIP_SAMPLES, SAMPLE_RATE, ClipPlan, choose_source, plan_clip
from engine.training.corpus_render import bundled_soundfont, normalize_peak, render_parts, soundfont_info

FORMAT_VERSION = 1
SPLITS = ("train", "heldout")
MEL_SPEC = MelSpec()
N_FRAMES = CLIP_SAMPLES // MEL_SPEC.hop_length


class CorpusError(RuntimeError):
    """The corpus folder is missing, incomplete or was written by another format version."""


@dataclass(frozen=True)
class CorpusConfig:
    """What `build_corpus` makes: `hours` of clips from `seed` under `out`, rendered by `workers` processes."""

    out: Path
    hours: float
    seed: int = 0
    workers: int = 2
    clips_per_shard: int = 256
    cache: Path | None = None
    soundfont: Path | None = None

    def validate(self) -> None:
        if not (self.hours > 0):
            raise ValueError(f"hours must be positive, got {self.hours}")
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        if self.clips_per_shard < 1:
            raise ValueError(f"clips_per_shard must be at least 1, got {self.clips_per_shard}")
        if self.soundfont is not None and not Path(self.soundfont).exists():
            raise FileNotFoundError(f"soundfont {self.soundfont} does not exist")

    @property
    def clip_count(self) -> int:
        """Clips that make `hours` of audio (at least one)."""
        return max(1, int(round(self.hours * 3600.0 / corpus_recipe.CLIP_SECONDS)))

    @property
    def cache_path(self) -> Path:
        return Path(self.cache) if self.cache is not None else Path(self.out) / "melody_cache.json"

    @property
    def soundfont_path(self) -> Path:
        return Path(self.soundfont) if self.soundfont is not None else bundled_soundfont()


# --- one clip -------------------------------------------------------------------------------------------------------


def render_clip(plan: ClipPlan, soundfont: Path) -> np.ndarray:
    """Audio of a planned clip, float32 [shape=(131072,)] at 22,050 Hz, peak at `plan.peak_dbfs` dBFS."""
    audio = render_parts(list(plan.parts), plan.dynamics.expression, soundfont=soundfont, sample_rate=SAMPLE_RATE,
                         n_samples=CLIP_SAMPLES)
    return normalize_peak(audio, plan.peak_dbfs)


def clip_mel(audio: np.ndarray) -> np.ndarray:
    """Natural-log mel of one clip: [shape=(131072,)] float32 -> [shape=(80, 512)] float32."""
    import torch

    from engine.audio.mel import log_mel

    with torch.no_grad():
        return log_mel(torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)), MEL_SPEC).numpy()


# --- shards ---------------------------------------------------------------------------------------------------------

_WORKER_PIECES: dict[str, list[Piece]] = {}


def _pieces(cache_path: str) -> list[Piece]:
    if cache_path not in _WORKER_PIECES:
        _WORKER_PIECES[cache_path] = load_melody_cache(Path(cache_path))
    return _WORKER_PIECES[cache_path]


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)


@dataclass(frozen=True)
class ShardTask:
    split: str
    number: int
    indices: tuple[int, ...]
    seed: int
    cache_path: str
    soundfont: str
    out: str


def render_shard(task: ShardTask) -> dict:
    """Render the clips of one shard and write `<out>/<split>/shard_XXXX.npz`; returns its statistics."""
    pieces = _pieces(task.cache_path)
    n = len(task.indices)
    mel = np.empty((n, MEL_SPEC.n_mels, N_FRAMES), dtype=np.float16)
    tags = np.empty((n, N_TAGS), dtype=np.uint8)
    audio_store = np.empty((n, CLIP_SAMPLES), dtype=np.float16) if task.split == "heldout" else None
    metas = []
    total = total_sq = 0.0
    for row, index in enumerate(task.indices):
        plan = plan_clip(task.seed, index, pieces)
        if plan.split != task.split:
            raise CorpusError(f"clip {index} belongs to {plan.split}, not {task.split}: the recipe is not "
                              f"deterministic")
        audio = render_clip(plan, Path(task.soundfont))
        m = clip_mel(audio)
        mel[row] = m.astype(np.float16)
        tags[row] = tags_to_multi_hot(plan.tags).astype(np.uint8)
        if audio_store is not None:
            audio_store[row] = audio.astype(np.float16)
        metas.append(json.dumps(plan.meta(), sort_keys=True))
        m64 = m.astype(np.float64)
        total += float(m64.sum())
        total_sq += float(np.square(m64).sum())
    arrays = {"mel": mel, "tags": tags, "meta": np.array(metas)}
    if audio_store is not None:
        arrays["audio"] = audio_store
    write_file(Path(task.out) / task.split / f"shard_{task.number:04d}.npz", lambda handle: np.savez(handle, **arrays))
    return {"split": task.split, "number": task.number, "clips": n, "sum": total, "sum_sq": total_sq,
            "tag_counts": tags.sum(axis=0).astype(int).tolist()}


def plan_shards(config: CorpusConfig, pieces: list[Piece]) -> list[ShardTask]:
    """Clip indices of every shard: clips go to the split their source decides, in index order."""
    by_split: dict[str, list[int]] = {s: [] for s in SPLITS}
    for index in range(config.clip_count):
        _archetype, _piece, split = choose_source(config.seed, index, pieces)
        by_split[split].append(index)
    tasks = []
    for split in SPLITS:
        indices = by_split[split]
        for number, start in enumerate(range(0, len(indices), config.clips_per_shard)):
            tasks.append(ShardTask(split, number, tuple(indices[start:start + config.clips_per_shard]),
                                   config.seed, str(config.cache_path), str(config.soundfont_path),
                                   str(config.out)))
    return tasks


def build_corpus(config: CorpusConfig, *, log=print) -> dict:
    """Render the corpus described by `config`, write its shards and manifest; returns the manifest."""
    config.validate()
    started = time.perf_counter()
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    if not config.cache_path.exists():
        log(f"extracting melodies from music21's corpus into {config.cache_path} ...")
        build_melody_cache(config.cache_path, workers=config.workers)
    pieces = load_melody_cache(config.cache_path)
    tasks = plan_shards(config, pieces)
    for split in SPLITS:  # shards of an earlier run would mix with these
        for old in (out / split).glob("shard_*.npz") if (out / split).exists() else ():
            old.unlink()
    log(f"rendering {config.clip_count} clips in {len(tasks)} shards with {config.workers} worker(s) ...")
    results = []
    if config.workers == 1:
        _init_worker()
        for task in tasks:
            results.append(render_shard(task))
            log(f"  {task.split}/shard_{task.number:04d}: {len(task.indices)} clips")
    else:
        context = multiprocessing.get_context("spawn")
        with context.Pool(config.workers, initializer=_init_worker) as pool:
            for result in pool.imap_unordered(render_shard, tasks):
                results.append(result)
                log(f"  {result['split']}/shard_{result['number']:04d}: {result['clips']} clips")
    manifest = _manifest(config, pieces, tasks, results)
    manifest["render_seconds"] = round(time.perf_counter() - started, 1)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def _cache_reference(config: CorpusConfig) -> str:
    """The cache path as the manifest records it: relative to the corpus folder when inside it, else absolute."""
    cache, out = config.cache_path.resolve(), Path(config.out).resolve()
    return str(cache.relative_to(out)) if cache.is_relative_to(out) else str(cache)


def _manifest(config: CorpusConfig, pieces: list[Piece], tasks: list[ShardTask], results: list[dict]) -> dict:
    from music21 import VERSION_STR

    stats = {}
    for split in SPLITS:
        rows = [r for r in results if r["split"] == split]
        count = sum(r["clips"] for r in rows) * MEL_SPEC.n_mels * N_FRAMES
        if count:
            mean = sum(r["sum"] for r in rows) / count
            var = sum(r["sum_sq"] for r in rows) / count - mean ** 2
            stats[split] = {"mean": round(mean, 4), "std": round(float(np.sqrt(max(var, 0.0))), 4)}
    tag_counts = {split: dict(zip(TAGS, np.sum([r["tag_counts"] for r in results if r["split"] == split]
                                                 or [[0] * N_TAGS], axis=0).astype(int).tolist()))
                  for split in SPLITS}
    info = soundfont_info(config.soundfont_path)
    return {
        "format_version": FORMAT_VERSION,
        "seed": config.seed,
        "hours": config.hours,
        "clip_count": config.clip_count,
        "clips": {split: sum(len(t.indices) for t in tasks if t.split == split) for split in SPLITS},
        "shards": {split: [f"{split}/shard_{t.number:04d}.npz" for t in tasks if t.split == split]
                   for split in SPLITS},
        "tags": list(TAGS),
        "tag_counts": tag_counts,
        "heldout_piece_ids": sorted(p.piece_id for p in pieces if is_heldout(p.piece_id)),
        "heldout_rule": f"int(sha256(piece_id)[:8], 16) % 1000 < {HELDOUT_PER_MILLE}; drums-only clips: "
                        f"probability {corpus_recipe.DRUMS_HELDOUT_FRACTION} from the clip's seed",
        "melody_cache": {"path": _cache_reference(config), "pieces": len(pieces), "music21": VERSION_STR,
                         "sources": sorted({p.source for p in pieces})},
        "soundfont": asdict(info),
        "render": {
            "sample_rate": SAMPLE_RATE, "clip_samples": CLIP_SAMPLES,
            "clip_seconds": round(corpus_recipe.CLIP_SECONDS, 4), "mel": asdict(MEL_SPEC), "mel_frames": N_FRAMES,
            "mel_dtype": "float16", "audio_dtype": "float16 (heldout only)", "mono": "mean of the stereo channels",
            "bpm_range": list(corpus_recipe.BPM_RANGE), "peak_dbfs_range": list(corpus_recipe.PEAK_DBFS_RANGE),
            "archetypes": dict(corpus_recipe.ARCHETYPES), "dynamics": dict(corpus_dynamics.DYNAMICS_KINDS),
            "drum_kits": {str(k): v for k, v in compose.DRUM_KITS.items()},
        },
        "mel_stats": stats,
    }


# --- reading --------------------------------------------------------------------------------------------------------


def _shard_paths(root: Path, split: str) -> list[Path]:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    root = Path(root)
    manifest_path = root / "manifest.json"
    if not manifest_path.exists():
        raise CorpusError(f"no corpus at {root} (manifest.json missing); make one with "
                          f"`python -m engine.training.corpus --out {root} --hours H --seed S`")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("format_version") != FORMAT_VERSION:
        raise CorpusError(f"{manifest_path} has format {manifest.get('format_version')}, expected "
                          f"{FORMAT_VERSION}; render the corpus again")
    paths = [root / name for name in manifest["shards"][split]]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise CorpusError(f"{len(missing)} shard(s) listed in {manifest_path} are missing, e.g. {missing[0]}")
    return paths


def load_corpus(root: Path | str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """All clips of a split: log-mel float16 [shape=(N, 80, 512)] and multi-hot tags uint8 [shape=(N, n_tags)]."""
    mels, tags = [], []
    for path in _shard_paths(Path(root), split):
        with np.load(path) as shard:
            mels.append(shard["mel"])
            tags.append(shard["tags"])
    if not mels:
        return (np.zeros((0, MEL_SPEC.n_mels, N_FRAMES), np.float16), np.zeros((0, N_TAGS), np.uint8))
    return np.concatenate(mels), np.concatenate(tags)


def load_meta(root: Path | str, split: str) -> list[dict]:
    """Per-clip descriptions of a split, in the order of `load_corpus`."""
    metas = []
    for path in _shard_paths(Path(root), split):
        with np.load(path) as shard:
            metas += [json.loads(str(m)) for m in shard["meta"]]
    return metas


def load_heldout_audio(root: Path | str) -> np.ndarray:
    """Held-out clips' audio, float16 [shape=(N, 131072)] at 22,050 Hz, in the order of `load_corpus`."""
    chunks = []
    for path in _shard_paths(Path(root), "heldout"):
        with np.load(path) as shard:
            chunks.append(shard["audio"])
    return np.concatenate(chunks) if chunks else np.zeros((0, CLIP_SAMPLES), np.float16)


def heldout_pieces(root: Path | str = "data/corpus") -> list[Piece]:
    """The melody-cache pieces of the held-out split (never used in training clips), sorted by piece id.

    The cache is the one the corpus under `root` was made from (its manifest says which), else
    `root/melody_cache.json`. Each has `piece_id`, `melody` (`[[onset_quarters, duration_quarters, midi_pitch], ...]`), key and meter.
    """
    root = Path(root)
    cache = root / "melody_cache.json"
    manifest_path = root / "manifest.json"
    if manifest_path.exists():
        cache = root / json.loads(manifest_path.read_text())["melody_cache"]["path"]  # absolute paths stay so
    pieces = load_melody_cache(cache)
    return sorted((p for p in pieces if is_heldout(p.piece_id)), key=lambda p: p.piece_id)


# --- command line ---------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.training.corpus", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="corpus folder (e.g. data/corpus)")
    parser.add_argument("--hours", type=float, required=True, help="hours of audio to render")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="rendering processes")
    parser.add_argument("--clips-per-shard", type=int, default=256)
    parser.add_argument("--cache", type=Path, default=None, help="melody cache (default: OUT/melody_cache.json)")
    parser.add_argument("--soundfont", type=Path, default=None, help="GM .sf2 (default: pretty_midi's TimGM6mb)")
    args = parser.parse_args(argv)
    config = CorpusConfig(out=args.out, hours=args.hours, seed=args.seed, workers=args.workers,
                          clips_per_shard=args.clips_per_shard, cache=args.cache, soundfont=args.soundfont)
    try:
        manifest = build_corpus(config, log=lambda s: print(s, file=sys.stderr, flush=True))
    except (ValueError, FileNotFoundError, CorpusError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({k: manifest[k] for k in ("clip_count", "clips", "mel_stats", "render_seconds")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
