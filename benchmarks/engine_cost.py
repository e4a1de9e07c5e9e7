"""Cost of one DITTO optimization step: peak memory vs sampling steps, with and without checkpointing, and
time(one optimization step) / time(one plain sampling pass).

    python benchmarks/engine_cost.py            # full-size built-in network, 512 frames (~5.9 s), CFG on
    python benchmarks/engine_cost.py --quick    # 128 frames, T = 5, 10, 20 (a smoke run)

Peak memory is measured in a fresh subprocess per configuration: the process's peak resident set size after the
step minus its peak before it (model loaded, one warm-up sampling pass done), with glibc told to serve blocks
above 64 KiB by mmap so freed memory leaves the resident set. Timings are medians measured side by
side in one process. Prints a table and updates the "engine-cost" section of docs/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import torch

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from results_doc import markdown_table, provenance, update_section  # noqa: E402


def _setup(frames: int):
    from engine.controls.intensity import IntensityControl
    from engine.models.builtin.model import load_builtin

    model = load_builtin()
    seconds = frames * model.mel.hop_length / model.mel.sample_rate
    shape = model.latent_shape(seconds)
    target = torch.linspace(-40, -10, shape[-1])
    control = IntensityControl(label="intensity", weight=1.0, tolerance=2.0, target_db=target,
                               mask=torch.ones(shape[-1]))
    conditioning = model.condition(tags=["piano"], guidance_scale=2.0, batch=1)
    x_T = torch.randn((1, *shape), generator=torch.Generator().manual_seed(0))
    return model, control, conditioning, x_T


def optimization_step(model, control, conditioning, x_T, steps: int, checkpointing: bool) -> None:
    from engine.job import SamplerSpec
    from engine.sampling import sample

    x = x_T.clone().requires_grad_(True)
    latent = sample(model, x, conditioning, SamplerSpec("ddim", steps), checkpointing=checkpointing)
    control.loss(model.decode_mel(latent)).sum().backward()


def plain_pass(model, conditioning, x_T, steps: int) -> None:
    from engine.job import SamplerSpec
    from engine.sampling import sample

    with torch.no_grad():
        sample(model, x_T, conditioning, SamplerSpec("ddim", steps), checkpointing=False)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure_memory_child(frames: int, steps: int, checkpointing: bool, threads: int) -> None:
    torch.set_num_threads(threads)
    model, control, conditioning, x_T = _setup(frames)
    plain_pass(model, conditioning, x_T, 2)
    before = _peak_mib()
    optimization_step(model, control, conditioning, x_T, steps, checkpointing)
    print(json.dumps({"peak_delta_mib": _peak_mib() - before}))


def measure_memory(frames: int, steps: int, checkpointing: bool, threads: int) -> float:
    # Large blocks through mmap, so freed activations leave the resident set at once: the peak then measures live
    # tensors, not heap fragmentation (without this, glibc's heap kept up to ~50 MiB of freed blocks resident).
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"}
    out = subprocess.run([sys.executable, __file__, "--child", str(frames), str(steps), str(int(checkpointing)),
                          "--threads", str(threads)], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_delta_mib"]


def measure_time_ratio(frames: int, steps: int, repeats: int) -> tuple[float, float]:
    model, control, conditioning, x_T = _setup(frames)
    plain_pass(model, conditioning, x_T, 2)
    plain, step = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        plain_pass(model, conditioning, x_T, steps)
        plain.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        optimization_step(model, control, conditioning, x_T, steps, True)
        step.append(time.perf_counter() - t0)
    return statistics.median(plain), statistics.median(step)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--child", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure_memory_child(args.child[0], args.child[1], bool(args.child[2]), args.threads)
        return
    torch.set_num_threads(args.threads)
    frames, step_counts, ratio_steps = (128, (5, 10, 20), 10) if args.quick else (512, (10, 20, 50), 20)
    rows = []
    memory = {}
    for steps in step_counts:
        for checkpointing in (True, False):
            memory[(steps, checkpointing)] = measure_memory(frames, steps, checkpointing, args.threads)
        rows.append([steps, f"{memory[(steps, True)]:.0f}", f"{memory[(steps, False)]:.0f}"])
        print(f"T={steps}: with checkpointing {memory[(steps, True)]:.0f} MiB, without {memory[(steps, False)]:.0f} MiB",
              flush=True)
    low, high = step_counts[0], step_counts[-1]
    growth = memory[(high, True)] / memory[(low, True)] - 1
    plain, step = measure_time_ratio(frames, ratio_steps, args.repeats)
    table = markdown_table(["sampling steps T", "peak MiB, checkpointing", "peak MiB, no checkpointing"], rows)
    body = "\n".join([
        "## Engine cost (`python benchmarks/engine_cost.py`)", "", provenance(), "",
        f"Built-in network ({frames} frames, batch 1 with classifier-free guidance, DDIM). Peak memory of one "
        "optimization step above the loaded model, per configuration in a fresh process:", "", table, "",
        f"With checkpointing, T = {high} uses {100 * growth:+.0f} % of the memory of T = {low}.", "",
        f"Time at T = {ratio_steps}: one plain sampling pass {plain:.2f} s, one optimization step {step:.2f} s, "
        f"ratio **{step / plain:.2f}** sampling-pass equivalents (floor about 3-4: forward, recompute, backward).",
    ])
    print(body)
    if not args.no_write:
        update_section("engine-cost", body)


if __name__ == "__main__":
    main()
