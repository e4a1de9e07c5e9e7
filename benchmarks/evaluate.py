"""The paper's evaluation re-run on our model: DITTO beside its baselines, every number from output audio.

    python benchmarks/evaluate.py                      # full-size built-in model; writes docs/RESULTS.md
    python benchmarks/evaluate.py --quick              # builtin-tiny, 1 item per cell, fast Griffin-Lim, prints only
    python benchmarks/evaluate.py --model builtin --n 3 --k 20 --tasks intensity melody

The default run (N = 2 items per cell, DDIM T = 10, K = 15 optimization steps, 20 for melody, Adam lr 0.02) is
sized for about 20-30 minutes on 2 CPU cores with the full-size built-in model (about 12,000 model calls of
70-110 ms, plus vocoding); it prints its plan and an estimate first. It prints
Tables 1, 2, 3 (cost) and 5 (quality), updates the "paper-tables" section of docs/RESULTS.md (commit, date, machine,
N per cell) and draws target vs achieved intensity curves into docs/eval_intensity.png. A --quick run never
writes either: its numbers come from a random-weight tiny model and only show that the pipeline runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from results_doc import provenance, update_section  # noqa: E402

from engine.evaluation import report  # noqa: E402
from engine.evaluation.cost import peak_memory_mib  # noqa: E402
from engine.evaluation.evalset import load_evalset  # noqa: E402
from engine.evaluation.runner import METHOD_NAMES, TASKS, RunConfig, RunResult, run  # noqa: E402

DOCS = Path(__file__).resolve().parent.parent / "docs"
PNG = DOCS / "eval_intensity.png"


def config_from(args: argparse.Namespace) -> RunConfig:
    config = RunConfig(model=args.model, tasks=tuple(args.tasks), device=args.device,
                       reference_dir=Path(args.references))
    if args.quick:
        config = RunConfig(model=args.model if args.model != "builtin" else "builtin-tiny", n=1, n_uncontrolled=2,
                           sampler_steps=4, optimizer_steps={t: 3 for t in TASKS}, tasks=tuple(args.tasks),
                           device=args.device, reference_dir=Path(args.references), fd_references=6,
                           vocoder="griffinlim-fast")
    overrides = {}
    if args.n is not None:
        overrides["n"] = args.n
    if args.steps is not None:
        overrides["sampler_steps"] = args.steps
    if args.k is not None:
        overrides["optimizer_steps"] = {t: args.k for t in TASKS}
    if args.lr is not None:
        overrides["lr"] = args.lr
    if overrides:
        from dataclasses import replace

        config = replace(config, **overrides)
    return config


def plot_intensity(result: RunResult, path: Path, examples: int = 3) -> Path | None:
    """Target vs achieved (output waveform) loudness curves of the first intensity items, one panel per item."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    items = [r for r in result.items if r.task == "intensity"]
    names = list(dict.fromkeys(r.item for r in items))[:examples]
    if not names:
        return None
    figure, axes = plt.subplots(1, len(names), figsize=(5.2 * len(names), 3.4), squeeze=False)
    styles = {"none": ("0.6", ":"), "freedom": ("tab:orange", "-"), "doodl": ("tab:green", "-"),
              "ditto": ("tab:blue", "-")}
    for axis, name in zip(axes[0], names):
        rows = [r for r in items if r.item == name]
        target = rows[0].target
        times = np.arange(target.size) * 256 / 22050
        axis.plot(times, target, "k--", linewidth=2, label="target")
        for r in rows:
            color, line = styles.get(r.method, ("0.3", "-"))
            t = np.arange(r.curve.size) * 256 / 22050
            axis.plot(t, r.curve, color=color, linestyle=line, linewidth=1.3,
                      label=f"{METHOD_NAMES[r.method]} ({r.metrics['mse_db2']:.1f} dB²)")
        axis.set_title(name)
        axis.set_xlabel("seconds")
        axis.set_ylabel("loudness (dB of frame RMS)")
        axis.legend(fontsize=7, loc="lower left")
        axis.grid(alpha=0.3)
    figure.suptitle(f"Intensity control on {result.model_name}: target vs output audio", fontsize=10)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="builtin", help="model name or .safetensors path (default: builtin)")
    parser.add_argument("--quick", action="store_true", help="smoke run on builtin-tiny; prints only")
    parser.add_argument("--n", type=int, default=None, help="items per cell")
    parser.add_argument("--steps", type=int, default=None, help="DDIM sampling steps T for every method")
    parser.add_argument("--k", type=int, default=None, help="optimization steps K for every task")
    parser.add_argument("--lr", type=float, default=None, help="Adam lr of DITTO (default 0.02; DOODL's clip scales with it)")
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default=None)
    parser.add_argument("--references", default="/tmp/ditto-eval-references", help="folder for rendered references")
    parser.add_argument("--json", type=Path, default=None, help="also write per-item metrics here")
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs/ alone")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = config_from(args)
    try:
        from engine.evaluation.transcriber import BasicPitchTranscriber, TranscriberUnavailableError

        transcriber = BasicPitchTranscriber()
    except TranscriberUnavailableError as error:
        print(f"note: no basic-pitch column ({error})", flush=True)
        transcriber = None

    def memory(method: str) -> float | None:
        return peak_memory_mib(method, config.model, load_evalset().duration, config.sampler_steps,
                               threads=args.threads, device=args.device)

    print(f"plan: model {config.model}, tasks {', '.join(config.tasks)}, N = {config.n} per cell, T = "
          f"{config.sampler_steps}, K = {dict((t, config.steps_for(t)) for t in config.tasks)}", flush=True)
    result = run(config, transcriber=transcriber, progress=lambda line: print(line, flush=True), memory=memory)
    body = report.markdown(result)
    heading = "## Evaluation: the paper's tables on our model (`python benchmarks/evaluate.py`)"
    if args.quick:
        heading += " — QUICK SMOKE RUN on a random-weight tiny model, not results"
    print("\n" + heading + "\n\n" + body)
    if args.json is not None:
        args.json.write_text(json.dumps([{k: v for k, v in vars(r).items() if k not in ("audio", "curve", "target")}
                                         for r in result.items], indent=1))
    if args.quick or args.no_write:
        return
    png = plot_intensity(result, PNG)
    figure = f"\n\n![target vs achieved intensity]({png.name})" if png else ""
    update_section("paper-tables", "\n".join([heading, "", provenance(), "", body]) + figure)
    print(f"\nwrote docs/RESULTS.md (section paper-tables){' and ' + str(png) if png else ''}")


if __name__ == "__main__":
    main()
