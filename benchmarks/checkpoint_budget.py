"""Checkpointing on a memory budget: time per optimization step vs its peak memory when only the first k of the
T sampling steps are checkpointed.

    python benchmarks/checkpoint_budget.py            # built-in network, 512 frames (~5.9 s), DDIM T = 20, k = 0..20
    python benchmarks/checkpoint_budget.py --quick    # 128 frames, k = 0, 10, 20 (a smoke run)

The setup is `benchmarks/engine_cost.py`'s (intensity control, tags "piano", guidance 2, one optimization step).
Peak memory: one fresh process per k, glibc serving blocks above 64 KiB by mmap (freed memory leaves the resident
set), the kernel's peak-RSS mark reset after loading and a warm-up sampling pass; the step's peak is that mark
minus the resident size before the step. Time: median of `--repeats` steps per k, measured side by side (the k
interleaved) in one process. Also compares the peaks with the memory model of `engine.sampling.budget`, fed with
one step's activations as `step_activation_mib` measures them. Prints a table, writes a figure and updates the
"checkpoint-budget" section of docs/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine_cost import _peak_mib, _setup, optimization_step, plain_pass  # noqa: E402
from results_doc import RESULTS, markdown_table, provenance, update_section  # noqa: E402

FIGURE = Path(__file__).resolve().parent.parent / "docs" / "checkpoint_budget.png"
SECTION = "checkpoint-budget"
MMAP_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536"}
"""Large blocks through mmap, so freed activations leave the resident set at once (as in engine_cost.py)."""


def checkpointing_for(k: int, steps: int) -> bool | int:
    """The `checkpointing` value for "the first k of `steps`": False for 0, True for all."""
    return False if k <= 0 else True if k >= steps else k


def measure_memory_child(frames: int, steps: int, k: int, threads: int) -> None:
    from engine.evaluation.cost import _reset_peak, _status_mib

    torch.set_num_threads(threads)
    model, control, conditioning, x_T = _setup(frames)
    plain_pass(model, conditioning, x_T, 2)
    checkpointing = checkpointing_for(k, steps)
    if _reset_peak() and _status_mib("VmRSS") is not None:
        before = _status_mib("VmRSS")
        optimization_step(model, control, conditioning, x_T, steps, checkpointing)
        peak = _status_mib("VmHWM") - before
    else:  # no resettable peak mark (not Linux): the process's peak after the step minus its peak before it
        before = _peak_mib()
        optimization_step(model, control, conditioning, x_T, steps, checkpointing)
        peak = _peak_mib() - before
    print(json.dumps({"peak_mib": peak}))


def measure_memory(frames: int, steps: int, k: int, threads: int) -> float:
    """Peak MiB of one optimization step with the first k of `steps` checkpointed, in a fresh process."""
    command = [sys.executable, __file__, "--child", str(frames), str(steps), str(k), "--threads", str(threads)]
    out = subprocess.run(command, capture_output=True, text=True, check=True, env={**os.environ, **MMAP_ENV})
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_mib"]


def measure_times(frames: int, steps: int, ks: list[int], repeats: int) -> tuple[dict[int, float], float]:
    """Median seconds per optimization step for each k, and one step's activations in MiB (measured)."""
    from engine.sampling.budget import step_activation_mib

    model, control, conditioning, x_T = _setup(frames)
    plain_pass(model, conditioning, x_T, 2)
    optimization_step(model, control, conditioning, x_T, 2, True)  # warm-up: autograd and checkpoint paths
    times: dict[int, list[float]] = {k: [] for k in ks}
    for _ in range(repeats):
        for k in ks:
            start = time.perf_counter()
            optimization_step(model, control, conditioning, x_T, steps, checkpointing_for(k, steps))
            times[k].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in times.items()}, step_activation_mib(model, x_T, conditioning)


def plot(path: Path, ks: list[int], peaks: dict[int, float], times: dict[int, float], steps: int, frames: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    xs, ys = [peaks[k] for k in ks], [times[k] for k in ks]
    axes.plot(xs, ys, "o-", color="tab:blue")
    for k, x, y in zip(ks, xs, ys):
        axes.annotate(f"k = {k}", (x, y), textcoords="offset points", xytext=(6, 6), fontsize=9)
    axes.set_xlabel("peak memory of one optimization step above the loaded model (MiB)")
    axes.set_ylabel("time per optimization step (s)")
    axes.set_title(f"First k of T = {steps} DDIM steps checkpointed ({frames} frames, CFG)", fontsize=10)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)


def main() -> None:
    from engine.sampling.budget import estimated_peak_mib, steps_to_checkpoint

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="128 frames, k = 0, T/2, T (a smoke run)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--steps", type=int, default=20, help="DDIM sampling steps T (default 20)")
    parser.add_argument("--repeats", type=int, default=3, help="timed steps per k; the median is reported")
    parser.add_argument("--results", type=Path, default=RESULTS, help="results document to update")
    parser.add_argument("--figure", type=Path, default=FIGURE, help="where to write the figure")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--child", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure_memory_child(*args.child, args.threads)
        return
    torch.set_num_threads(args.threads)
    steps = args.steps
    frames = 128 if args.quick else 512
    ks = sorted({0, steps // 2, steps}) if args.quick else sorted({0, steps // 4, steps // 2, 3 * steps // 4, steps})
    peaks = {}
    for k in ks:
        peaks[k] = measure_memory(frames, steps, k, args.threads)
        print(f"k={k}: peak {peaks[k]:.0f} MiB", flush=True)
    times, per_step = measure_times(frames, steps, ks, args.repeats)
    slope = (peaks[0] - peaks[steps]) / steps
    fixed = peaks[steps]
    rows = [[k, f"{times[k]:.2f}", f"{times[k] / times[steps]:.2f}", f"{peaks[k]:.0f}",
             f"{estimated_peak_mib(steps, checkpointing_for(k, steps), per_step, fixed_mib=fixed):.0f}"] for k in ks]
    table = markdown_table(["checkpointed steps k", "s per optimization step", "time vs k = T",
                            "peak MiB, measured", "peak MiB, model"], rows)
    examples = []
    for budget in (fixed + 0.5 * steps * per_step, 1024.0, 2048.0):
        choice = steps_to_checkpoint(steps, budget, per_step, fixed_mib=fixed)
        examples.append(f"{budget:.0f} MiB -> `checkpointing={choice}`")
    label = " (smoke run: `--quick`)" if args.quick else ""
    body = "\n".join([
        f"## Checkpointing on a memory budget (`python benchmarks/checkpoint_budget.py`){label}", "",
        provenance(), "",
        f"Built-in network, {frames} frames, batch 1 with classifier-free guidance, DDIM T = {steps}, intensity "
        "control; one optimization step with the first k sampling steps checkpointed (k = 0: none, k = T: all). "
        f"Time: median of {args.repeats}. Peak: above the loaded model, one fresh process per k.", "",
        table, "",
        f"One sampling step's activations: **{per_step:.0f} MiB** counted by `engine.sampling.budget."
        f"step_activation_mib` (one model call); the measured peaks grow by {slope:.0f} MiB per step that is not "
        f"checkpointed. The model column is `estimated_peak_mib` with that count and the measured k = T peak "
        f"({fixed:.0f} MiB) as its fixed part.", "",
        "`steps_to_checkpoint` on these figures: " + "; ".join(examples) + ".", "",
        f"![time per step vs peak memory]({os.path.relpath(args.figure, args.results.parent)})",
    ])
    print(body)
    if not args.no_write:
        plot(args.figure, ks, peaks, times, steps, frames)
        update_section(SECTION, body, args.results)


if __name__ == "__main__":
    main()
