"""How loud the built-in model plays per tag set, uncontrolled, against the loudness range intensity targets use.

    python benchmarks/tag_loudness.py                 # the evaluation's tag sets, 4 seeds x 6 s each
    python benchmarks/tag_loudness.py --quick         # builtin-tiny, 2 tag sets, 1 seed x 2 s (a smoke run)

Each take is a default job without controls (`quality: final`, the job's default guidance), written as audio by
`engine.api.generate`. Its level is the evaluation's own loudness curve
(`engine.evaluation.producer_metrics.loudness_db`: frame RMS, 0.25-s smoothing, dB); the table gives the 5th,
50th and 95th percentile over every frame of every seed, beside the range the intensity control splits targets
with (`DiffusionModel.loudness_range`). A tag set whose p95 sits far below the range's top is asked, by a target
near that top, for more than it plays by itself. Prints the table and updates the "tag-loudness" section of
docs/RESULTS.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_doc import RESULTS, markdown_table, provenance, update_section  # noqa: E402

SECTION = "tag-loudness"
SEED_BASE = 500


def levels_db(model, tags: tuple[str, ...], seeds: int, seconds: float) -> np.ndarray:
    """Smoothed frame levels (dB) of `seeds` uncontrolled takes of `tags`, concatenated `(frames,)`."""
    from engine.api import generate
    from engine.evaluation.producer_metrics import loudness_db
    from engine.job import Job

    curves = []
    for seed in range(SEED_BASE, SEED_BASE + seeds):
        result = generate(Job.from_dict({"duration": seconds, "seed": seed, "tags": list(tags)}), model=model)
        curves.append(loudness_db(result.audio[0].mean(axis=0).astype(np.float64), result.sample_rate))
    return np.concatenate(curves)


def main(argv: list[str] | None = None) -> int:
    import torch

    from engine.device import torch_threads
    from engine.evaluation.producer_set import TAG_SETS
    from engine.models.registry import load_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4, help="takes per tag set (default 4)")
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each take (default 6)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: one per physical core)")
    parser.add_argument("--quick", action="store_true", help="builtin-tiny, 2 tag sets, 1 seed x 2 s; never writes")
    parser.add_argument("--results", type=Path, default=RESULTS, help="results document to update")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    torch.set_num_threads(torch_threads(args.threads))
    model = load_model("builtin-tiny" if args.quick else "builtin")
    tag_sets = TAG_SETS[:2] if args.quick else TAG_SETS
    seeds, seconds = (1, 2.0) if args.quick else (args.seeds, args.seconds)
    reach = model.loudness_range()

    rows = []
    for tags in tag_sets:
        levels = levels_db(model, tags, seeds, seconds)
        p5, p50, p95 = np.percentile(levels, [5, 50, 95])
        rows.append([", ".join(tags), f"{p5:.1f}", f"{p50:.1f}", f"{p95:.1f}", f"{reach.high_db - p95:.1f}"])
        print(" | ".join(rows[-1]), flush=True)
    table = markdown_table(["tags", "p5 dB", "p50 dB", "p95 dB", "range top minus p95 (dB)"], rows)
    body = "\n".join([
        "## Loudness per tag set, uncontrolled (`python benchmarks/tag_loudness.py`)"
        + (" (smoke run: `--quick`)" if args.quick else ""), "", provenance(), "",
        f"Model `{model.info.name}`, default jobs without controls, {seeds} seed(s) x {seconds:g} s per tag set; "
        "smoothed frame RMS (the evaluation's loudness curve), percentiles over all frames. The intensity control's "
        f"range for this model: {reach.low_db:.1f} ... {reach.high_db:.1f} dB ({reach.source}).", "", table])
    print(body)
    if not (args.no_write or args.quick):
        update_section(SECTION, body, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
