"""Loudness and spectral-flatness ranges of the training corpus, shipped beside the weights.

    python -m engine.training.data_stats --corpus data/corpus

Writes `engine/models/builtin/weights/data_stats.json`: percentiles of clip RMS (dBFS) and of median spectral
flatness over held-out clips, and the frame-level loudness range (`frame_db`). Tests use them to check that the
shipped model makes neither silence nor noise without needing the (uncommitted) corpus; the engine reads
`frame_db.low` / `frame_db.high` as the range intensity targets are asked of the music within
(`engine/models/loudness.py`).

The range is taken over *sounding* frames (smoothed level above `SOUNDING_DB`): a quarter of the corpus's
frames are rests, drops and tails near silence, which the model makes as the absence of music, not as quiet
music. `low` is the 20th percentile of sounding frames, `high` the 99th.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from engine.audio.mel import MelSpec, log_mel
from engine.features.intensity import intensity_db
from engine.training.corpus import load_heldout_audio

SOUNDING_DB = -60.0
RANGE_PERCENTILES = (20, 99)
STATS_PATH = Path(__file__).resolve().parent.parent / "models" / "builtin" / "weights" / "data_stats.json"


def clip_rms_db(audio: np.ndarray) -> float:
    """RMS of a whole clip in dBFS."""
    return float(20 * np.log10(np.sqrt(np.mean(np.asarray(audio, np.float64) ** 2)) + 1e-9))


def clip_flatness(audio: np.ndarray, spec: MelSpec = MelSpec()) -> float:
    """Median over frames of the spectral flatness of the mel power (0 tonal ... 1 white noise)."""
    power = np.exp(2 * log_mel(torch.as_tensor(np.asarray(audio, np.float32)), spec).double().numpy())
    flatness = np.exp(np.mean(np.log(power + 1e-12), axis=0)) / (np.mean(power, axis=0) + 1e-12)
    return float(np.median(flatness))


def frame_levels_db(audio: np.ndarray, spec: MelSpec = MelSpec()) -> np.ndarray:
    """The engine's smoothed intensity curve (dB per frame) of one clip `(samples,)` -> `(frames,)`."""
    return intensity_db(log_mel(torch.as_tensor(np.asarray(audio, np.float32)), spec), spec).numpy()


def frame_range(levels: np.ndarray) -> dict[str, float]:
    """`frame_db` entry: the loudness range over sounding frames of all clips' levels `(frames,)`, with context."""
    sounding = levels[levels > SOUNDING_DB]
    low, high = (float(np.percentile(sounding, q)) for q in RANGE_PERCENTILES)
    return {"low": round(low, 2), "high": round(high, 2), "sounding_db": SOUNDING_DB,
            "percentiles_of_sounding_frames": list(RANGE_PERCENTILES),
            "sounding_share": round(float(len(sounding) / len(levels)), 4),
            "all_frames": {f"p{q}": round(float(np.percentile(levels, q)), 2) for q in (10, 25, 50, 75, 99)}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("data/corpus"))
    args = parser.parse_args(argv)
    audio = load_heldout_audio(args.corpus)
    rms = [clip_rms_db(a) for a in audio]
    flat = [clip_flatness(a) for a in audio]
    stats = {"clips": len(audio),
             "rms_db": {p: float(np.percentile(rms, int(p[1:]))) for p in ("p1", "p50", "p99")},
             "flatness": {p: float(np.percentile(flat, int(p[1:]))) for p in ("p1", "p50", "p99")},
             "frame_db": frame_range(np.concatenate([frame_levels_db(a) for a in audio]))}
    STATS_PATH.parent.mkdir(parents=True, exist_ok=True)
    STATS_PATH.write_text(json.dumps(stats, indent=2))
    print(json.dumps(stats, indent=2))


if __name__ == "__main__":
    main()
