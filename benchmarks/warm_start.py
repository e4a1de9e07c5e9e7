"""Warm start: optimization steps and seconds saved when a tweaked curve starts from the previous take's x_T*.

    python benchmarks/warm_start.py                 # built-in model, 6 s, seeds 0 and 1; writes docs/RESULTS.md
    python benchmarks/warm_start.py --quick         # builtin-tiny, 1 s, 4 Adam steps: shows it runs, prints only

Job A is an intensity ramp, -40 dB to -12 dB over the clip (a middle breakpoint on the line), run with early stop
until the render is within the control's tolerance (2 dB RMS error). Each tweak B changes one breakpoint by 5 dB
and runs twice from the same seed: (i) from fresh seeded noise, as any new job, and (ii) warm-started from A's
optimized x_T* (the engine job's ``warm_start``, what the daemon does for jobs of one lineage). "unchanged" runs
A's own curve warm, as a reference: a warm start that is already within tolerance stops at step 0 (its fresh
row is job A itself). Reported per run: Adam steps until early stop (the budget when it never converged), whether
the render met the tolerance, the seconds spent optimizing and in total (model loaded once beforehand), and the
render's intensity error. Writes the "warm-start" section of docs/RESULTS.md unless --quick.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from results_doc import markdown_table, provenance, update_section  # noqa: E402

from engine.api import generate  # noqa: E402
from engine.job import Job  # noqa: E402
from engine.models.registry import load_model  # noqa: E402
from engine.quality import PRESETS, plan_for  # noqa: E402

START_DB, END_DB = -40.0, -12.0
"""Job A: a ramp between these levels (dB of frame RMS) over the whole clip."""
TWEAK_DB = 5.0
TOLERANCE_DB = 2.0


@dataclasses.dataclass(frozen=True)
class Settings:
    """One benchmark configuration: model, clip length (s), samplers (steps), Adam budget, seeds."""

    model: str
    duration: float
    render_steps: int | None
    """Steps of the final preset's render sampler (None: the preset's own; early stop is checked on the render)."""
    optimizer_steps: int
    seeds: tuple[int, ...]
    tags: tuple[str, ...] = ()


FULL = Settings(model="builtin", duration=6.0, render_steps=None, optimizer_steps=40, seeds=(0, 1))
QUICK = Settings(model="builtin-tiny", duration=1.0, render_steps=6, optimizer_steps=4, seeds=(0,))


def curves(duration: float) -> dict[str, tuple[list[float], list[float]]]:
    """Job A's curve and each tweak: name -> (times in s, dB). A's middle breakpoint lies on the ramp."""
    times = [0.0, duration / 2, duration]
    middle = (START_DB + END_DB) / 2
    return {
        "A: ramp -40 -> -12 dB": (times, [START_DB, middle, END_DB]),
        f"end raised {TWEAK_DB:g} dB": (times, [START_DB, middle, END_DB + TWEAK_DB]),
        f"middle raised {TWEAK_DB:g} dB": (times, [START_DB, middle + TWEAK_DB, END_DB]),
        f"start lowered {TWEAK_DB:g} dB": (times, [START_DB - TWEAK_DB, middle, END_DB]),
    }


def job_dict(settings: Settings, seed: int, times: list[float], db: list[float], warm_start: str | None) -> dict:
    """The engine job (JSON form) as a producer's default sends it: the final quality's plan (early stop on the
    render), its render sampler cut to `render_steps` when set."""
    sampler = {} if settings.render_steps is None else {
        "sampler": {"name": PRESETS["final"].rendered_with.name, "steps": settings.render_steps}}
    return {"name": "warm-start-bench", "duration": settings.duration, "model": settings.model, "seed": seed,
            "tags": list(settings.tags), **sampler,
            "optimizer": {"steps": settings.optimizer_steps, "early_stop": True},
            "controls": [{"type": "intensity", "times": times, "db": db, "tolerance": TOLERANCE_DB}],
            "warm_start": warm_start}


def run(model, data: dict) -> dict:
    """Run one job; its steps, convergence, seconds, render error and x_T*."""
    started = time.perf_counter()
    result = generate(Job.from_dict(data), model=model)
    seconds = time.perf_counter() - started
    return {"steps": result.steps_run, "converged": result.converged, "optimize_s": result.timings["optimize"],
            "total_s": seconds, "error_db": result.output_metrics[0]["intensity"], "x_T": result.x_T}


def measure(settings: Settings, folder: Path) -> list[dict]:
    """Every run of the benchmark: one row per (seed, curve, start)."""
    model = load_model(settings.model, "cpu")
    rows = []
    named = curves(settings.duration)
    base_name = next(iter(named))
    for seed in settings.seeds:
        times, db = named[base_name]
        a = run(model, job_dict(settings, seed, times, db, None))
        start_path = folder / f"x_T_A_seed{seed}.pt"
        torch.save(a.pop("x_T"), start_path)
        rows.append({"seed": seed, "curve": base_name, "start": "fresh", **a})
        print(f"seed {seed} A: {a['steps']} steps, {a['total_s']:.1f} s, error {a['error_db']:.2f} dB", flush=True)
        warm = run(model, job_dict(settings, seed, times, db, str(start_path)))
        warm.pop("x_T")
        rows.append({"seed": seed, "curve": "unchanged", "start": "warm", **warm})
        for name, (times, db) in list(named.items())[1:]:
            for start, path in (("fresh", None), ("warm", str(start_path))):
                row = run(model, job_dict(settings, seed, times, db, path))
                row.pop("x_T")
                rows.append({"seed": seed, "curve": name, "start": start, **row})
                print(f"seed {seed} {name} ({start}): {row['steps']} steps, converged {row['converged']}, "
                      f"{row['total_s']:.1f} s, error {row['error_db']:.2f} dB", flush=True)
    return rows


def table(rows: list[dict], settings: Settings) -> str:
    header = ["curve", "seed", "start", f"Adam steps (of {settings.optimizer_steps})", "converged",
              "optimize s", "total s", "intensity error, dB RMS"]
    body = [[r["curve"], r["seed"], r["start"], r["steps"], "yes" if r["converged"] else "no",
             f"{r['optimize_s']:.1f}", f"{r['total_s']:.1f}", f"{r['error_db']:.2f}"] for r in rows]
    return markdown_table(header, body)


def savings(rows: list[dict]) -> str:
    """Mean fresh vs warm over the tweaks (not job A, not "unchanged")."""
    pairs = {}
    for r in rows:
        if r["curve"].startswith("A:") or r["curve"] == "unchanged":
            continue
        pairs.setdefault((r["seed"], r["curve"]), {})[r["start"]] = r
    fresh = [p["fresh"] for p in pairs.values()]
    warm = [p["warm"] for p in pairs.values()]
    mean = statistics.fmean
    return (f"Over {len(pairs)} tweaked runs: fresh noise {mean(r['steps'] for r in fresh):.1f} Adam steps, "
            f"{mean(r['total_s'] for r in fresh):.1f} s, {sum(r['converged'] for r in fresh)} converged; warm start "
            f"{mean(r['steps'] for r in warm):.1f} steps, {mean(r['total_s'] for r in warm):.1f} s, "
            f"{sum(r['converged'] for r in warm)} converged.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="builtin-tiny, 1 s, 4 steps; prints only")
    parser.add_argument("--seeds", type=int, nargs="+", help="seeds (default: 0 1, or 0 with --quick)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    settings = QUICK if args.quick else FULL
    if args.seeds:
        settings = dataclasses.replace(settings, seeds=tuple(args.seeds))
    with tempfile.TemporaryDirectory() as folder:
        rows = measure(settings, Path(folder))
    text = table(rows, settings)
    summary = savings(rows)
    print(text)
    print(summary)
    if args.quick:
        return 0
    plan = plan_for(Job.from_dict(job_dict(settings, 0, *curves(settings.duration)["A: ramp -40 -> -12 dB"], None)))
    chain, render = plan.optimized_through, plan.rendered_with
    description = (
        f"Model `{settings.model}`, {settings.duration:g} s clips, tags {list(settings.tags) or 'none'}. Job A: "
        f"intensity ramp {START_DB:g} -> {END_DB:g} dB (breakpoints at 0, {settings.duration / 2:g} and "
        f"{settings.duration:g} s), tolerance {TOLERANCE_DB:g} dB RMS. Adam through the final preset's chain "
        f"({chain.name} {chain.steps}), render {render.name} {render.steps}, at most {settings.optimizer_steps} steps, "
        "early stop on the render. "
        f"Each tweak moves one breakpoint by {TWEAK_DB:g} dB and runs from the same seed's noise (fresh) and from "
        f"A's x_T* (warm). \"unchanged\" is A's curve warm-started. Seconds exclude loading the model.")
    body = "\n\n".join(["## Warm start (`python benchmarks/warm_start.py`)", provenance(), description, text, summary])
    update_section("warm-start", body)
    print("updated the warm-start section of docs/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
