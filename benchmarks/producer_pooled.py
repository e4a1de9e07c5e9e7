"""Several producer-evaluation runs read as one: FD-mel ratios over their takes together, and DITTO against each
baseline on the cases the baseline ran.

FD-mel at N 12-48 moves by a few tenths between draws of cases (a bootstrap over one draw's 12 structure cases
put its ratio between 0.95 and 1.54, p10-p90); pooling the held-out draws doubles N without looking at anything
new. The baseline rows compare like with like: a baseline runs on the first cases of a task only, so DITTO's
figures here are on those same cases.

    python benchmarks/producer_pooled.py runs/producer_eval/heldout runs/producer_eval/heldout-d1

Reads each run folder's `results.jsonl` and WAVs (made by `benchmarks/producer_eval.py`); prints two tables.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from producer_eval import MUSIC_CLIPS, fd_values, music_clips  # noqa: E402
from results_doc import markdown_table  # noqa: E402

from engine.evaluation.producer_report import METHOD_NAMES, ResultStore  # noqa: E402

PAIRED_METRICS = {"intensity": ("mse_db2", "MSE dB²"), "melody": ("acc_transcriber", "basic-pitch accuracy"),
                  "structure": ("mse", "SSM MSE"), "inpaint": ("overlap_mse", "overlap MSE"),
                  "outpaint": ("overlap_mse", "overlap MSE"), "loop": ("overlap_mse", "overlap MSE")}


def read_records(folder: Path) -> list[dict]:
    """The run's records (`ResultStore`: the last of each item), each WAV path made absolute so records of several
    runs can be read together."""
    records = list(ResultStore(folder / "results.jsonl").values())
    for record in records:
        if "wav" in record:
            record["wav"] = str((folder / record["wav"]).resolve())
    return records


def pooled_fd_table(records: list[dict], music: list[np.ndarray]) -> str:
    """FD-mel ratios per task and method over every run's takes (`producer_eval.fd_values`)."""
    rows = [[task, METHOD_NAMES.get(method, method), value["n"], f"{value['ratio']:.2f}",
             f"{value['ratio_normalized']:.2f}", f"{value['ratio_dynamics_matched']:.2f}",
             f"{value['level_shift_db']:+.1f}"]
            for (task, method), value in sorted(fd_values(records, Path("/"), music).items())]
    return markdown_table(["task", "method", "N", "FD-mel ratio", "level-normalized", "dynamics-matched",
                           "level vs uncontrolled, dB"], rows)


def paired_rows(records: list[dict], run: str) -> list[list]:
    """Per task and baseline of one run: the metric's median / mean / p10 / p90 for the baseline and for DITTO on
    the cases the baseline ran."""
    rows = []
    for task, (key, label) in PAIRED_METRICS.items():
        ditto = {r["case"]: r for r in records if r["task"] == task and r.get("method") == "ditto"}
        for method in sorted({r.get("method") for r in records if r["task"] == task} - {"ditto", "none", "reference"}):
            cases = [r["case"] for r in records if r["task"] == task and r.get("method") == method
                     and r["case"] in ditto and key in r.get("metrics", {})]
            if not cases:
                continue
            base = {r["case"]: r for r in records if r["task"] == task and r.get("method") == method}
            for name, source in ((METHOD_NAMES.get(method, method), base), ("DITTO, same cases", ditto)):
                values = np.array([source[c]["metrics"][key] for c in cases], dtype=float)
                rows.append([run, task, name, len(cases), label, *(f"{v:.4g}" for v in (
                    np.median(values), values.mean(), np.percentile(values, 10), np.percentile(values, 90)))])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders of benchmarks/producer_eval.py")
    args = parser.parse_args(argv)
    per_run = {folder.name: read_records(folder) for folder in args.runs}
    music = music_clips(args.runs[0], MUSIC_CLIPS)
    print(f"FD-mel over the runs {', '.join(per_run)} together:\n")
    print(pooled_fd_table([r for records in per_run.values() for r in records], music))
    print("\nDITTO against each baseline on the cases the baseline ran:\n")
    print(markdown_table(["run", "task", "method", "N", "metric", "median", "mean", "p10", "p90"],
                         [row for name, records in per_run.items() for row in paired_rows(records, name)]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
