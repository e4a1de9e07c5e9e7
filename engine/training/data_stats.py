"""Loudness and spectral-flatness ranges of the training corpus, shipped beside the weights.

    python -m engine.training.data_stats --corpus data/corpus

Writes `engine/models/builtin/weights/data_stats.json`: percentiles of clip RMS (dBFS) and of median spectral
flatness over held-out clips. Tests use them to check that the shipped model makes neither silence nor noise
without needing the (uncommitted) corpus.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from engine.audio.mel import MelSpec, log_mel
from engine.training.corpus import load_heldout_audio

STATS_PATH = Path(__file__).resolve().parent.parent / "models" / "builtin" / "weights" / "data_stats.json"


def clip_rms_db(audio: np.ndarray) -> float:
    """RMS of a whole clip in dBFS."""
    return float(20 * np.log10(np.sqrt(np.mean(np.asarray(audio, np.float64) ** 2)) + 1e-9))


def clip_flatness(audio: np.ndarray, spec: MelSpec = MelSpec()) -> float:
    """Median over frames of the spectral flatness of the mel power (0 tonal ... 1 white noise)."""
    power = np.exp(2 * log_mel(torch.as_tensor(np.asarray(audio, np.float32)), spec).double().numpy())
    flatness = np.exp(np.mean(np.log(power + 1e-12), axis=0)) / (np.mean(power, axis=0) + 1e-12)
    return float(np.median(flatness))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("data/corpus"))
    args = parser.parse_args(argv)
    audio = load_heldout_audio(args.corpus)
    rms = [clip_rms_db(a) for a in audio]
    flat = [clip_flatness(a) for a in audio]
    stats = {"clips": len(audio),
             "rms_db": {p: float(np.percentile(rms, int(p[1:]))) for p in ("p1", "p50", "p99")},
             "flatness": {p: float(np.percentile(flat, int(p[1:]))) for p in ("p1", "p50", "p99")}}
    STATS_PATH.parent.mkdir(parents=True, exist_ok=True)
    STATS_PATH.write_text(json.dumps(stats, indent=2))
    print(json.dumps(stats, indent=2))


if __name__ == "__main__":
    main()
