"""Re-tune FreeDoM's guidance strength on the shipped weights, on the tuning split, measured on the WAV.

    python benchmarks/tune_baselines.py                       # 12 tune cases per task, strengths 0.1 ... 2
    python benchmarks/tune_baselines.py --quick               # builtin-tiny, 2 cases, 2 strengths (a smoke run)
    python benchmarks/tune_baselines.py --from-logs A.log B.log  # one table from sweeps run apart (their output)

The baseline of the producer-scale evaluation (`benchmarks/producer_eval.py`) is FreeDoM at one strength for
every task. This sweep runs FreeDoM exactly as that evaluation runs it (DDIM 20, the case's tags and seed, the
take written as a WAV and read back) on the first cases of the `tune` split for intensity, melody and structure,
at each strength, and reports the median and the bad tail of each task's headline metric (a take whose sample
went non-finite counts as the worst). The strength the evaluation
uses is the one with the best median summed over tasks by rank (each task ranks the strengths; lowest total
wins). Held-out cases are never run here. Prints the table and updates the "baseline-tuning" section of
docs/RESULTS.md (not with --quick).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from producer_eval import Run  # noqa: E402
from results_doc import markdown_table, provenance, update_section  # noqa: E402

from engine.evaluation.producer_report import HEADLINE  # noqa: E402
from engine.evaluation.producer_set import producer_cases  # noqa: E402

SECTION = "baseline-tuning"
TASKS = ("intensity", "melody", "structure")
STRENGTHS = (0.1, 0.25, 0.5, 1.0, 2.0)


def sweep(run: Run, cases: list, strengths: tuple[float, ...]) -> dict[tuple[str, float], list[dict]]:
    """FreeDoM's records per (task, strength) on `cases`."""
    records: dict[tuple[str, float], list[dict]] = {}
    for strength in strengths:
        run.args.freedom_strength = strength
        for case in cases:
            record = run.baseline(case, "freedom")
            records.setdefault((case.task, strength), []).append(record)
            key, _, _ = HEADLINE[case.task]
            value = "diverged" if record.get("diverged") else f"{record['metrics'][key]:.4g}"
            print(f"strength {strength:g} {case.id}: {key}={value}", flush=True)
    return records


def records_from_logs(paths: list[Path]) -> dict[tuple[str, float], list[dict]]:
    """The records of earlier sweeps from what they printed (``strength S CASE: key=value`` or ``=diverged``):
    all a table needs, each take's headline metric."""
    records: dict[tuple[str, float], list[dict]] = {}
    line = re.compile(r"^strength (\S+) (tune-(\w+)-\d+): (\w+)=(\S+)$")
    for path in paths:
        for match in filter(None, map(line.match, path.read_text().splitlines())):
            strength, _, task, key, value = match.groups()
            record = {"diverged": True} if value == "diverged" else {"metrics": {key: float(value)}}
            records.setdefault((task, float(strength)), []).append(record)
    return records


def scores(task: str, records: list[dict]) -> list[float]:
    """Each take's headline metric, a diverged take (no audio) counted as the worst there is."""
    key, _, higher_is_better = HEADLINE[task]
    worst = 0.0 if higher_is_better else float("inf")
    return [worst if r.get("diverged") else r["metrics"][key] for r in records]


def best_strength(records: dict[tuple[str, float], list[dict]], strengths: tuple[float, ...]) -> float:
    """The strength with the lowest sum over tasks of its rank by median headline metric (diverged takes worst)."""
    ranks = {s: 0 for s in strengths}
    for task in {t for t, _ in records}:
        _, _, higher_is_better = HEADLINE[task]
        medians = {s: float(np.median(scores(task, records[(task, s)]))) for s in strengths}
        order = sorted(strengths, key=lambda s: -medians[s] if higher_is_better else medians[s])
        for rank, s in enumerate(order):
            ranks[s] += rank
    return min(strengths, key=lambda s: (ranks[s], s))


def table(records: dict[tuple[str, float], list[dict]], strengths: tuple[float, ...]) -> str:
    rows = []
    for task in TASKS:
        key, label, higher_is_better = HEADLINE[task]
        scale = 100.0 if higher_is_better else 1.0  # accuracies are shown in %
        for s in strengths:
            if (task, s) not in records:
                continue
            values = scale * np.asarray(scores(task, records[(task, s)]))
            diverged = sum(bool(r.get("diverged")) for r in records[(task, s)])
            tail = np.percentile(values, 10 if higher_is_better else 90)
            rows.append([task, f"{s:g}", len(values), diverged, f"{np.median(values):.3g}", f"{tail:.3g}", label])
    return markdown_table(["task", "strength", "N", "diverged", "median", "bad tail (p90 error / p10 acc.)",
                           "metric"], rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=12, help="tune cases per task")
    parser.add_argument("--strengths", type=float, nargs="+", default=list(STRENGTHS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="folder for the WAVs (default runs/tune_baselines)")
    parser.add_argument("--quick", action="store_true", help="builtin-tiny, 2 cases, 2 strengths")
    parser.add_argument("--from-logs", type=Path, nargs="+", default=None,
                        help="report the sweeps these logs printed instead of running one")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    strengths = tuple(args.strengths[:2] if args.quick else args.strengths)
    count = 2 if args.quick else args.cases
    out = args.out or Path(__file__).resolve().parent.parent / "runs" / ("tune_baselines" + ("-quick" * args.quick))
    run_args = argparse.Namespace(model="builtin-tiny" if args.quick else "builtin", device=None, quick=args.quick,
                                  baselines=count, doodl_steps=15, baseline_lr=0.02, freedom_strength=strengths[0])
    cases = producer_cases("tune", {"intensity": count, "melody": count, "structure": count, "inpaint": 0,
                                    "outpaint": 0, "loop": 0},
                           clip_seconds=3.0 if args.quick else None)
    ran = provenance()
    if args.from_logs:
        records = records_from_logs(args.from_logs)
        strengths = tuple(sorted({s for _, s in records}))
        count = max(len(r) for r in records.values())
        ran = "; ".join(sorted({line for path in args.from_logs for line in path.read_text().splitlines()
                                if line.startswith("commit `")}))
        ran += f" (sweeps reported from their logs, {', '.join(p.name for p in args.from_logs)}: 4 significant digits)"
    else:
        records = sweep(Run(run_args, cases, out), cases, strengths)
    chosen = best_strength(records, strengths)
    body = "\n".join([
        "## FreeDoM strength on the shipped weights (`python benchmarks/tune_baselines.py`)", "",
        ran, "",
        f"Model `{run_args.model}`, split `tune`, the first {count} cases per task, FreeDoM as the producer-scale "
        "evaluation runs it (DDIM 20, measured on the WAV). Chosen (best summed rank of the medians): "
        f"**{chosen:g}**; `benchmarks/producer_eval.py` uses it as `--freedom-strength`'s default.", "",
        table(records, strengths)])
    print("\n" + body)
    if args.quick:
        print("\nQUICK smoke run: docs/RESULTS.md left alone")
        return 0
    update_section(SECTION, body)
    print(f"\nwrote docs/RESULTS.md (section {SECTION})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
