"""Time to audio: seconds from an OSC /ditto/generate to the WAV in the outbox, with the output's control error.

    python benchmarks/time_to_audio.py                 # built-in model, 2 torch threads; writes docs/RESULTS.md
    python benchmarks/time_to_audio.py --quick         # builtin-tiny, tiny budgets: shows the path runs, prints only

A real `ditto-bridge serve` subprocess (built-in model, CPU) is started and warmed up with one plain generation
(model loading is reported, not counted). Then, for each evaluation-set item, the same job is sent three times
over real UDP OSC, one after another, each timed from sending /ditto/generate to receiving /ditto/done (the WAV
is checked to be in the outbox):

- full DITTO: optimized through the render sampler itself (DDIM T = 20), K = 70 Adam steps, no early stop;
- full DITTO, early stop: the same, ending as soon as the output is within every control's tolerance (the
  stopping rule the fast default uses, so the two are compared at the same "good enough");
- final (the fast default: the job says nothing but its controls);
- draft (`"quality": "draft"`).

Both runs share Adam's lr 0.02 (the engine's preset; on this model it beat the paper's 5e-3 for short budgets,
see the evaluation section).

Every metric is measured on the WAV the daemon wrote, as the evaluation measures it: intensity MSE in dB²,
melody accuracy from chroma, outpaint overlap log-mel MSE. Jobs travel in the engine's seconds form (the
daemon takes it as it takes a job in Live units) so all three variants carry the same targets.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "ditto_bridge"))
from bridge_testkit import DaemonProcess, OscPeer  # noqa: E402
from results_doc import markdown_table, provenance, update_section  # noqa: E402

from engine.audio.io import read_audio  # noqa: E402
from engine.evaluation import metrics  # noqa: E402
from engine.evaluation.evalset import load_evalset, render_references  # noqa: E402
from engine.evaluation.runner import RunConfig, job_data, task_metrics  # noqa: E402
from engine.job import Job  # noqa: E402
from engine.models.registry import load_model  # noqa: E402

HEADLINE = {"intensity": ("mse_db2", "intensity MSE dB²"), "melody": ("acc_chroma", "melody accuracy (chroma)"),
            "outpaint": ("overlap_mse", "overlap log-mel MSE")}
FULL_DITTO = {"optimize_through": "render", "sampler": {"name": "ddim", "steps": 20},
              "optimizer": {"steps": 70, "lr": 0.02, "early_stop": False}}
FULL_DITTO_STOPPED = {**FULL_DITTO, "optimizer": {"steps": 70, "lr": 0.02, "early_stop": True}}
VARIANTS = {"full DITTO": FULL_DITTO, "full DITTO, early stop": FULL_DITTO_STOPPED, "final (fast default)": {},
            "draft": {"quality": "draft"}}


def item_job(task: str, index: int, evalset, references, model_name: str) -> dict:
    """The evaluation item as a bare engine job: its controls, duration, seed; everything else default."""
    data = job_data(task, index, evalset, references, RunConfig(model=model_name))
    return {key: data[key] for key in ("name", "duration", "seed", "controls", "model")}


def timed_job(peer: OscPeer, job: dict, timeout: float) -> tuple[float, Path, dict]:
    """Send one job; seconds until /ditto/done, the WAV's path and its sidecar."""
    start = time.perf_counter()
    peer.send("/ditto/generate", json.dumps(job))
    address, args = peer.wait_for(lambda a, _: a in ("/ditto/done", "/ditto/error"), timeout)
    seconds = time.perf_counter() - start
    if address == "/ditto/error":
        raise RuntimeError(f"the daemon refused or failed the job {job['name']}: {args[1]}")
    wav = Path(args[1])
    if not wav.is_file():
        raise RuntimeError(f"/ditto/done named {wav}, which is not in the outbox")
    return seconds, wav, json.loads(wav.with_suffix(".json").read_text())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--items", nargs="+", default=["intensity:0", "intensity:1", "melody:0", "outpaint:0"],
                        help="task:index of the evaluation set")
    parser.add_argument("--references", default="/tmp/ditto-eval-references")
    args = parser.parse_args(argv)
    model_name = "builtin-tiny" if args.quick else "builtin"
    variants = dict(VARIANTS)
    if args.quick:
        for name in ("full DITTO", "full DITTO, early stop"):
            variants[name] = {**variants[name], "sampler": {"steps": 4},
                              "optimizer": {**variants[name]["optimizer"], "steps": 3}}
    items = [(spec.split(":")[0], int(spec.split(":")[1])) for spec in args.items]

    evalset = load_evalset()
    needed = sorted({evalset.outpaint[i].reference for task, i in items if task == "outpaint"})
    references = render_references(evalset, Path(args.references), names=needed)
    model = load_model(model_name, "cpu")  # for the metrics only: the daemon has its own
    reference_audio = {name: metrics.mono(*read_audio(path), model.mel) for name, path in references.items()}

    rows, summary = [], {}
    with tempfile.TemporaryDirectory() as root:
        started = time.perf_counter()
        daemon = DaemonProcess(Path(root), "--model", model_name, "--torch-threads", str(args.threads),
                               "--audio-dir", str(Path(args.references).resolve()))
        try:
            with OscPeer(daemon.address) as peer:
                warm, _, _ = timed_job(peer, {"name": "warmup", "duration": 2.0, "model": model_name}, 600)
                startup = time.perf_counter() - started
                print(f"daemon up and warmed in {startup:.1f} s (first plain job {warm:.1f} s)", flush=True)
                for task, index in items:
                    job = item_job(task, index, evalset, references, model_name)
                    for variant, overrides in variants.items():
                        sent = {**job, **overrides, "name": f"{job['name']}-{variant}"}
                        seconds, wav, sidecar = timed_job(peer, sent, 3600)
                        audio, rate = read_audio(wav)
                        engine_job = Job.from_dict(sidecar["job"])
                        values, _ = task_metrics(task, metrics.mono(audio, rate, model.mel), model.info.sample_rate,
                                                 engine_job, model, reference_audio, None)
                        key, _ = HEADLINE[task]
                        plan = sidecar["plan"]
                        chain = plan["optimized_through"]
                        rows.append([task, job["name"], variant, f"{seconds:.1f}", f"{values[key]:.4g}",
                                     f"{chain['name']} {chain['steps']} → {plan['rendered_with']['steps']}",
                                     sidecar["optimization_steps_run"], len(sidecar.get("render_checks", [])),
                                     "yes" if sidecar["converged"] else "no"])
                        summary.setdefault((task, variant), []).append((seconds, values[key]))
                        print(" | ".join(str(c) for c in rows[-1]), flush=True)
        finally:
            daemon.terminate()
            daemon.close()

    header = ["task", "item", "variant", "s to WAV", "output metric", "chain → render steps", "opt. steps",
              "render checks", "within tolerance"]
    table = markdown_table(header, rows)
    summary_rows = []
    for task in dict.fromkeys(t for t, _ in items):
        references = [summary[(task, name)] for name in ("full DITTO", "full DITTO, early stop")]
        for variant in variants:
            cell = summary[(task, variant)]
            mean_s = statistics.mean(s for s, _ in cell)
            mean_m = statistics.mean(m for _, m in cell)
            ratios = [f"{mean_m / statistics.mean(m for _, m in ref):.2f}" for ref in references]
            summary_rows.append([task, HEADLINE[task][1], variant, len(cell), f"{mean_s:.1f}", f"{mean_m:.4g}",
                                 *ratios])
    summary_table = markdown_table(["task", "metric", "variant", "N", "mean s to WAV", "mean metric",
                                    "metric / full DITTO's", "metric / early-stopped full DITTO's"],
                                   summary_rows)
    print(summary_table)
    if args.quick:
        return
    body = (f"## Time to audio\n\n`python benchmarks/time_to_audio.py --threads {args.threads}` ({provenance()}; "
            f"daemon with {args.threads} torch threads, nothing else running).\n\n"
            f"Seconds from sending OSC `/ditto/generate` to receiving `/ditto/done` with the WAV in the outbox, "
            f"6-second jobs, daemon already running (start-up and warm-up: {startup:.0f} s, not counted). Metrics "
            "on the WAV: intensity MSE in dB² (lower is better), melody accuracy from chroma (higher is better), "
            "outpaint overlap log-mel MSE (lower is better). full DITTO = K 70 through DDIM 20, no early stop; "
            "early stop = the same ending once within tolerance; final = the fast default (the preset's short "
            "chain corrected toward the render, early stop on the render); draft = the draft preset.\n\n"
            + summary_table + "\n\nPer item:\n\n" + table)
    update_section("time-to-audio", body)


if __name__ == "__main__":
    main()
