"""How much control survives optimizing through a short sampler and rendering with the full one.

    python benchmarks/surrogate.py                     # built-in model, intensity / melody / outpaint
    python benchmarks/surrogate.py --quick             # builtin-tiny, K = 3: shows the pipeline runs, prints only
    python benchmarks/surrogate.py --tasks intensity --k 30 --items 2

For each task item (from the evaluation set) and each optimization chain, DITTO optimizes x_T through the chain
(Adam, lr 0.02, no early stop; K = 70 through the full sampler, `--k` through the short chains) and the optimized
x_T is rendered with the full sampler (DDIM, T = 20). A short chain runs either plain (the loss on the chain's
output only) or corrected (render checks every few steps correct the loss toward the render, as the engine's
fast default does: engine/ditto/optimize.py). Every metric is measured on the vocoded output audio, as the
evaluation measures it; "on the chain" is the control's own metric on the chain's output (what the optimizer
saw, corrected where the row is). The row "DDIM 20 (full DITTO)" optimizes through the render sampler itself: the
paper's setting, the reference the others are compared with. "uncontrolled" renders the same seed's noise
without optimization. Writes the "surrogate" section of docs/RESULTS.md unless --quick.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from results_doc import markdown_table, provenance, update_section  # noqa: E402

from engine.audio.io import read_audio  # noqa: E402
from engine.controls import build_controls  # noqa: E402
from engine.ditto import optimize  # noqa: E402
from engine.evaluation import metrics  # noqa: E402
from engine.evaluation.evalset import load_evalset, render_references  # noqa: E402
from engine.evaluation.runner import RunConfig, decode, initial_noise, job_data, task_metrics  # noqa: E402
from engine.job import Job, SamplerSpec  # noqa: E402
from engine.models.registry import load_model  # noqa: E402
from engine.plan import Plan  # noqa: E402
from engine.sampling.loop import sample  # noqa: E402

RENDER = ("ddim", 20)
CHAINS = [("ddim", 20, False), ("ddim", 4, False), ("ddim", 4, True), ("dpmsolver++", 4, False),
          ("dpmsolver++", 4, True)]
"""Optimization chains (scheduler, steps, corrected toward the render); the first is the render sampler itself:
full DITTO."""
HEADLINE = {"intensity": "mse_db2", "melody": "acc_chroma", "outpaint": "overlap_mse"}


def chain_name(chain: tuple[str, int, bool]) -> str:
    label = f"{'DPM-Solver++' if chain[0] == 'dpmsolver++' else 'DDIM'} {chain[1]}"
    if chain[:2] == RENDER:
        return label + " (full DITTO)"
    return label + (", corrected" if chain[2] else ", plain")


def run_item(model, job: Job, chain: tuple[str, int, bool] | None, k: int, lr: float, reference_audio) -> dict:
    """Optimize through `chain` (None: no optimization), render with RENDER, measure the output audio."""
    conditioning = model.condition(tags=job.tags, guidance_scale=job.guidance_scale, batch=1)
    controls = build_controls(job, model)
    x_T = initial_noise(model, job.duration, job.seed)
    start = time.perf_counter()
    on_chain = None
    if chain is not None:
        through = SamplerSpec(chain[0], chain[1])
        plan = Plan(optimized_through=through, rendered_with=SamplerSpec(*RENDER) if chain[2] else through,
                    optimizer_steps=k, lr=lr, early_stop=False, noise_seed=job.seed)
        result = optimize(model, controls, x_T, conditioning, plan)
        x_T, on_chain = result.x_T, min(m[controls[0].label] for m in result.metrics)
    optimize_seconds = time.perf_counter() - start
    with torch.no_grad():
        latent = sample(model, x_T, conditioning, SamplerSpec(*RENDER), noise_seed=job.seed)
        rendered = float(controls[0].metric(model.decode_mel(latent)))
    audio = decode(model, latent, job.duration)
    values, _ = task_metrics(task_of(job), audio, model.info.sample_rate, job, model, reference_audio, None)
    return {"audio": values, "on_chain": on_chain, "on_render": rendered, "seconds": optimize_seconds}


def task_of(job: Job) -> str:
    return job.controls[0].type


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--tasks", nargs="+", default=list(HEADLINE))
    parser.add_argument("--items", type=int, default=1, help="evaluation-set items per task")
    parser.add_argument("--k", type=int, default=40, help="optimization steps through the short chains")
    parser.add_argument("--k-full", type=int, default=70, help="optimization steps through the full sampler")
    parser.add_argument("--lr", type=float, default=0.02)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--references", default="/tmp/ditto-eval-references")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    model_name, k, k_full = ("builtin-tiny", 3, 3) if args.quick else ("builtin", args.k, args.k_full)
    model = load_model(model_name, "cpu")
    evalset = load_evalset()
    config = RunConfig(model=model_name)
    needed = sorted({evalset.outpaint[i].reference for i in range(args.items)}) if "outpaint" in args.tasks else []
    references = render_references(evalset, Path(args.references), names=needed)
    reference_audio = {name: metrics.mono(*read_audio(path), model.mel) for name, path in references.items()}

    rows = []
    for task in args.tasks:
        for index in range(args.items):
            job = Job.from_dict(job_data(task, index, evalset, references, config))
            for chain in [None, *CHAINS]:
                steps = k_full if chain is not None and chain[:2] == RENDER else k
                out = run_item(model, job, chain, steps, args.lr, reference_audio)
                name = "uncontrolled" if chain is None else chain_name(chain)
                headline = out["audio"][HEADLINE[task]]
                rows.append([task, job.name, name, f"{headline:.4g}", _fmt(out["on_chain"]), f"{out['on_render']:.3g}",
                             f"{out['seconds']:.0f}"])
                print(" | ".join(rows[-1]), flush=True)

    header = ["task", "item", "optimized through", "output audio metric", "control metric on the chain",
              "control metric on the render", "optimize s"]
    table = markdown_table(header, rows)
    print(table)
    if args.quick:
        return
    body = (f"## Surrogate chains: control that survives the switch to the full sampler\n\n"
            f"`python benchmarks/surrogate.py --items {args.items} --k {k} --k-full {k_full}` ({provenance()}).\n\n"
            f"K = {k_full} Adam steps through the full sampler, {k} through the short chains, lr {args.lr}, no "
            "early stop; render with DDIM 20; "
            "output audio metric on the vocoded WAV: intensity MSE in dB² (lower is better), melody accuracy "
            "from chroma (higher is better), outpaint overlap log-mel MSE (lower is better). The control "
            "metrics (RMS dB error, error rate, log-mel MSE) are the engine's own, on the chain's output (best "
            "step) and on the render.\n\n" + table)
    update_section("surrogate", body)


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.3g}"


if __name__ == "__main__":
    main()
