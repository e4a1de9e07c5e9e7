"""Plain CPU speed of the built-in model at 6 s: torch threads, `torch.compile` of the denoiser, bfloat16 autocast.

    python benchmarks/plain_speed.py                  # 512 frames (~5.9 s), threads 1 vs 2, compile, bfloat16
    python benchmarks/plain_speed.py --quick          # 128 frames, 2 repeats (a smoke run)

Workloads (the setup of `benchmarks/engine_cost.py`: intensity control, tags "piano", guidance 2): one DITTO
optimization step through a 4-step and a 20-step DDIM chain (every step checkpointed, the job default) and one
plain 20-step render (no gradients). All timings are medians of `--repeats`, measured side by side in one process
(the variants interleaved within each repeat):

1. threads: each workload at each of `--thread-counts`;
2. bfloat16: each workload with the denoiser in float32 and in bfloat16 (`DiffusionModel.use_precision`, the
   engine's own switch), and the largest and mean absolute difference of the two renders' log-mel (in dB);
3. compile: each workload with the eager denoiser network and with `torch.compile(network)`. Compile time is the
   first compiled call minus the compiled median of the same workload (the render and the optimization step
   compile separate graphs, both counted), with an empty inductor cache and again with the on-disk cache that
   compile filled; it is paid once per daemon process, so the break-even is reported in optimization steps
   (T = 20). Runs last: compiling leaves global state behind.

Sections 2 and 3 run at `--threads` (default: one per physical core, `engine.device.torch_threads`). Prints the
tables and updates the "plain-speed" section of docs/RESULTS.md.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine_cost import _setup, optimization_step, plain_pass  # noqa: E402
from results_doc import RESULTS, markdown_table, provenance, update_section  # noqa: E402

SECTION = "plain-speed"
DB_PER_NAT = 10.0 / math.log(10.0)
"""The log-mel is a natural log of power: one nat is 4.34 dB."""


def workloads(model, control, conditioning, x_T) -> dict[str, Callable[[], None]]:
    return {
        "optimization step, T = 4": lambda: optimization_step(model, control, conditioning, x_T, 4, True),
        "optimization step, T = 20": lambda: optimization_step(model, control, conditioning, x_T, 20, True),
        "render, T = 20 (no grad)": lambda: plain_pass(model, conditioning, x_T, 20),
    }


def seconds(run: Callable[[], None]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def time_threads(work: dict[str, Callable[[], None]], counts: list[int], repeats: int) -> dict[tuple[str, int], float]:
    """Median seconds per (workload, thread count), thread counts interleaved within each repeat."""
    times: dict[tuple[str, int], list[float]] = {}
    for _ in range(repeats):
        for threads in counts:
            torch.set_num_threads(threads)
            for name, run in work.items():
                times.setdefault((name, threads), []).append(seconds(run))
    return {key: statistics.median(value) for key, value in times.items()}


def render_logmel(model, conditioning, x_T) -> torch.Tensor:
    """Log-mel `(1, n_mels, frames)` of a 20-step render at the model's current precision."""
    from engine.job import SamplerSpec
    from engine.sampling import sample

    with torch.no_grad():
        latent = sample(model, x_T, conditioning, SamplerSpec("ddim", 20), checkpointing=False)
    return model.decode_mel(latent.float())


def time_bfloat16(model, work: dict[str, Callable[[], None]], conditioning, x_T, repeats: int) -> dict:
    """Median seconds per (workload, "fp32" | "bf16") with the model's precision switched between them
    (`DiffusionModel.use_precision`, what the engine runs), and the log-mel difference of the two renders."""
    times: dict[tuple[str, str], list[float]] = {}
    logmels = {}
    try:
        for precision in ("bf16", "fp32"):  # warm-up: autocast's weight casts, bf16 kernels
            model.use_precision(precision)
            logmels[precision] = render_logmel(model, conditioning, x_T)
        for _ in range(repeats):
            for precision in ("fp32", "bf16"):
                model.use_precision(precision)
                for name, run in work.items():
                    times.setdefault((name, precision), []).append(seconds(run))
    finally:
        model.use_precision("fp32")
    difference = (logmels["fp32"] - logmels["bf16"]).abs() * DB_PER_NAT
    return {"times": {key: statistics.median(value) for key, value in times.items()},
            "max_db": difference.max().item(), "mean_db": difference.mean().item()}


def time_compile(model, work: dict[str, Callable[[], None]], repeats: int) -> tuple[dict, dict[str, dict[str, float]]]:
    """Median seconds per (workload, "eager" | "compiled") and compile seconds per cache state and graph.

    "cold": an empty inductor cache (a daemon's first start on a machine); "warm": compiled again after clearing
    the in-memory caches, with the on-disk cache the cold compile filled (a later start of the daemon).
    """
    import tempfile

    import torch._dynamo
    from torch._inductor.runtime.cache_dir_utils import temporary_cache_dir
    from torch._inductor.utils import clear_caches

    eager = model.network
    firsts = ("render, T = 20 (no grad)", "optimization step, T = 4")
    first: dict[str, dict[str, float]] = {}
    times: dict[tuple[str, str], list[float]] = {}
    try:
        with tempfile.TemporaryDirectory() as cache, temporary_cache_dir(cache):
            for state in ("cold", "warm"):
                torch._dynamo.reset()
                clear_caches()
                compiled = torch.compile(eager)
                model.network = compiled
                first[state] = {name: seconds(work[name]) for name in firsts}
            for _ in range(repeats):
                for variant, network in (("eager", eager), ("compiled", compiled)):
                    model.network = network
                    for name, run in work.items():
                        times.setdefault((name, variant), []).append(seconds(run))
    finally:
        model.network = eager
    medians = {key: statistics.median(value) for key, value in times.items()}
    compile_time = {state: {name: first[state][name] - medians[(name, "compiled")] for name in firsts}
                    for state in first}
    return medians, compile_time


def main() -> None:
    from engine.device import torch_threads

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="128 frames, 2 repeats (a smoke run)")
    parser.add_argument("--thread-counts", type=int, nargs="+", default=[1, 2], help="section 1 (default 1 2)")
    parser.add_argument("--threads", type=int, default=0,
                        help="threads for sections 2 and 3 (default 0: one per physical core)")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per variant (default 3, quick 2)")
    parser.add_argument("--skip-compile", action="store_true", help="leave out section 3 (minutes of compiling)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="results document to update")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    frames = 128 if args.quick else 512
    repeats = args.repeats or (2 if args.quick else 3)
    threads = torch_threads(args.threads)

    model, control, conditioning, x_T = _setup(frames)
    model.use_precision("fp32")  # sections 1 and 3 in float32; section 2 switches
    work = workloads(model, control, conditioning, x_T)
    for count in args.thread_counts:  # warm-up per thread count: first calls allocate and pick kernels
        torch.set_num_threads(count)
        plain_pass(model, conditioning, x_T, 2)
        optimization_step(model, control, conditioning, x_T, 2, True)
    by_threads = time_threads(work, args.thread_counts, repeats)
    base = args.thread_counts[0]
    rows = [[name] + [f"{by_threads[(name, n)]:.2f}" for n in args.thread_counts]
            + [f"{by_threads[(name, base)] / by_threads[(name, args.thread_counts[-1])]:.2f}x"] for name in work]
    threads_table = markdown_table(["workload"] + [f"s, {n} thread{'s' * (n > 1)}" for n in args.thread_counts]
                                   + [f"speed-up {args.thread_counts[-1]} vs {base}"], rows)
    print(threads_table, flush=True)

    torch.set_num_threads(threads)
    bf16 = time_bfloat16(model, work, conditioning, x_T, repeats)
    rows = [[name, f"{bf16['times'][(name, 'fp32')]:.2f}", f"{bf16['times'][(name, 'bf16')]:.2f}",
             f"{bf16['times'][(name, 'fp32')] / bf16['times'][(name, 'bf16')]:.2f}x"] for name in work]
    bf16_table = markdown_table(["workload", "s, float32", "s, bfloat16", "speed-up"], rows)
    bf16_text = (f"At {threads} thread(s); bfloat16 is the engine's own switch (`engine/precision.py`: autocast "
                 "around the denoiser, latents and losses in float32). Log-mel of the two T = 20 renders from one "
                 f"x_T: largest difference {bf16['max_db']:.2f} dB, mean {bf16['mean_db']:.3f} dB.")
    print(bf16_table, bf16_text, sep="\n", flush=True)

    lines = ["## Plain speed (`python benchmarks/plain_speed.py`)" + (" (smoke run: `--quick`)" if args.quick else ""),
             "", provenance(), "",
             f"Built-in network, {frames} frames, batch 1 with classifier-free guidance, DDIM, intensity control; "
             f"optimization steps checkpoint every sampling step; float32 except in the bfloat16 table. Medians of "
             f"{repeats}, variants interleaved.", "",
             "Torch threads:", "", threads_table, "", "bfloat16 against float32:", "", bf16_table, "", bf16_text]
    if not args.skip_compile:
        medians, compile_time = time_compile(model, work, repeats)
        rows = [[name, f"{medians[(name, 'eager')]:.2f}", f"{medians[(name, 'compiled')]:.2f}",
                 f"{medians[(name, 'eager')] / medians[(name, 'compiled')]:.2f}x"] for name in work]
        compile_table = markdown_table(["workload", "s, eager", "s, compiled", "speed-up"], rows)
        step = "optimization step, T = 20"
        saved = medians[(step, "eager")] - medians[(step, "compiled")]
        parts = []
        for state, label in (("cold", "empty cache (first start)"), ("warm", "on-disk cache filled (later starts)")):
            spent = compile_time[state]
            total = sum(spent.values())
            pays = (f"pays back after **{math.ceil(total / saved)}** optimization steps (T = 20)" if saved > 0
                    else "**never pays back**: the compiled optimization step is not faster")
            parts.append(f"{label}: {spent['render, T = 20 (no grad)']:.0f} s for the render graph + "
                         f"{spent['optimization step, T = 4']:.0f} s for the optimization graphs (forward and "
                         f"backward) = {total:.0f} s, {pays}")
        compile_text = "Compile time, paid once per process: " + "; ".join(parts) + "."
        print(compile_table, compile_text, sep="\n", flush=True)
        lines += ["", f"`torch.compile` of the denoiser network at {threads} thread(s):", "", compile_table, "",
                  compile_text]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        update_section(SECTION, body, args.results)


if __name__ == "__main__":
    main()
