"""Tables of an evaluation run, laid out like the paper's Tables 1, 2, 3 and 5, as markdown.

Every cell is the mean over the items of the cell (± the standard deviation when there are several), measured on
output audio; "—" marks a method the paper does not apply to a task.
"""

from __future__ import annotations

import statistics

from engine.evaluation.runner import METHOD_NAMES, METHODS, TAU_DB, RunResult

PAPER_TIME_RATIO = 0.45
PAPER_MEMORY_RATIO = 0.60


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def _mean(values: list[float], digits: int) -> str:
    if not values:
        return "—"
    mean = statistics.fmean(values)
    if len(values) == 1:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def _metric(result: RunResult, task: str, method: str, key: str, digits: int, scale: float = 1.0) -> str:
    if task not in result.config.tasks or method not in METHODS[task]:
        return "—"
    return _mean([r.metrics[key] * scale for r in result.cell(task, method) if key in r.metrics], digits)


def _fd(result: RunResult, task: str, method: str, which: str = "real") -> str:
    value = result.fd.get((task, method))
    return "—" if value is None else f"{value[which]:.1f}"


def table_reference_tasks(result: RunResult) -> str:
    """Table 1: in-painting, out-painting, looping."""
    methods = ("none", "masking", "multidiffusion", "ditto")
    header = ["method"]
    for task in ("inpaint", "outpaint", "loop"):
        header += [f"{task} overlap MSE ↓", f"{task} seam ↓", f"{task} FD-mel ↓"]
    rows = []
    for method in methods:
        row = [METHOD_NAMES[method]]
        for task in ("inpaint", "outpaint", "loop"):
            row += [_metric(result, task, method, "overlap_mse", 3), _metric(result, task, method, "seam", 2),
                    _fd(result, task, method) if method in METHODS[task] and task in result.config.tasks else "—"]
        rows.append(row)
    return _table(header, rows)


def table_feature_controls(result: RunResult) -> str:
    """Table 2: intensity, melody, structure."""
    methods = ("none", "freedom", "doodl", "ditto")
    header = ["method", "intensity MSE (dB²) ↓", "intensity FD-mel ↓", "melody acc. chroma (%) ↑",
              "melody acc. basic-pitch (%) ↑", "melody FD-mel ↓", "structure MSE ↓", "structure FD-mel ↓"]
    rows = []
    for method in methods:
        fd = {task: _fd(result, task, method) if task in result.config.tasks and method in METHODS[task] else "—"
              for task in ("intensity", "melody", "structure")}
        rows.append([METHOD_NAMES[method], _metric(result, "intensity", method, "mse_db2", 2), fd["intensity"],
                     _metric(result, "melody", method, "acc_chroma", 1, 100.0),
                     _metric(result, "melody", method, "acc_transcriber", 1, 100.0), fd["melody"],
                     _metric(result, "structure", method, "mse", 4), fd["structure"]])
    return _table(header, rows)


def _steps_to_tau(items, steps: int) -> str:
    reached = [r.steps_to_tolerance for r in items]
    return ", ".join("not within " + str(steps) if s is None else str(s) for s in reached) or "—"


def cost_rows(result: RunResult) -> dict[str, dict[str, float | None]]:
    """Per method on the intensity task: seconds per step, peak MiB, seconds per finished sample."""
    out = {}
    for method in ("ditto", "doodl", "freedom"):
        items = result.cell("intensity", method)
        if not items:
            continue
        steps = [r.step_seconds for r in items if r.step_seconds is not None]
        out[method] = {"step_seconds": statistics.median(steps) if steps else None,
                       "peak_mib": result.peak_memory_mib.get(method),
                       "sample_seconds": statistics.fmean(r.seconds for r in items)}
    return out


def table_cost(result: RunResult) -> str:
    """Table 3: cost on the intensity task, and the DITTO / DOODL ratios beside the paper's."""
    rows = []
    costs = cost_rows(result)
    K = result.config.steps_for("intensity")
    for method, cost in costs.items():
        per_step = "—" if cost["step_seconds"] is None else f"{cost['step_seconds']:.2f}"
        if method == "freedom" and cost["step_seconds"] is not None:
            per_step += " (per sampling step)"
        peak = "—" if cost["peak_mib"] is None else f"{cost['peak_mib']:.0f}"
        steps = "one guided pass" if method == "freedom" else _steps_to_tau(result.cell("intensity", method), K)
        rows.append([METHOD_NAMES[method], per_step, peak, steps, f"{cost['sample_seconds']:.1f}"])
    table = _table(["method", "s / optimization step", "peak MiB of one step", f"steps to τ = {TAU_DB:g} dB "
                    "(per item)", "s / finished sample"], rows)
    ditto, doodl = costs.get("ditto"), costs.get("doodl")
    lines = [table]
    if ditto and doodl and ditto["step_seconds"] and doodl["step_seconds"]:
        lines.append("")
        time_ratio = ditto["step_seconds"] / doodl["step_seconds"]
        text = f"DITTO / DOODL, measured side by side in this run: time per step **{time_ratio:.2f}** (paper " \
               f"{PAPER_TIME_RATIO:.2f})"
        if ditto["peak_mib"] and doodl["peak_mib"]:
            text += f", peak memory per step **{ditto['peak_mib'] / doodl['peak_mib']:.2f}** (paper " \
                    f"{PAPER_MEMORY_RATIO:.2f})"
        lines.append(text + ".")
    return "\n".join(lines)


def table_quality(result: RunResult) -> str:
    """Table 5: does control cost quality? FD-mel of each method's outputs against held-out music and against
    the same model's uncontrolled outputs."""
    rows = []
    for task in result.config.tasks:
        for method in METHODS[task]:
            if (task, method) in result.fd:
                rows.append([task, METHOD_NAMES[method], _fd(result, task, method, "real"),
                             _fd(result, task, method, "uncontrolled")])
    return _table(["task", "method", "FD-mel vs held-out music ↓", "FD-mel vs uncontrolled outputs ↓"], rows)


def settings_line(result: RunResult) -> str:
    c = result.config
    steps = ", ".join(f"{t} {c.steps_for(t)}" for t in c.tasks)
    state = "trained" if result.model_trained else "RANDOM WEIGHTS: numbers only show the pipeline runs"
    return (f"Model `{result.model_name}` ({state}); N = {c.n} items per cell (seeds fixed by the evaluation set); DDIM T = "
            f"{c.sampler_steps} for every method (the paper: T = 20); optimization steps K: {steps} (the paper: 70, "
            f"150 for melody and structure); Adam lr {c.lr:g} (the paper: 5e-3 with 70 steps); DOODL element clip "
            f"{c.doodl_clip:g} (its default 1e-3 scaled like the lr); FreeDoM strength {c.freedom_strength:g}; "
            f"guidance scale "
            f"{c.guidance_scale:g}, tags {list(c.tags) or 'none'}; uncontrolled pool for FD-mel: {c.n_uncontrolled} "
            f"clips; audio: {'the model decoder' if c.vocoder is None else c.vocoder + ' (smoke run)'}; one model call {result.forward_seconds * 1000:.0f} ms; run time {result.elapsed / 60:.1f} min.")


def markdown(result: RunResult) -> str:
    """The whole report: settings and the four tables."""
    return "\n".join([
        settings_line(result), "",
        "**Table 1 — in-painting, out-painting, looping.** Overlap MSE: log-mel of the output audio against the "
        "reference where they must agree (nats²). Seam: spectral change across each boundary between reference "
        "audio and generated audio (hard cuts; for loops also the wrap point) relative to the change inside the "
        "clip (1 = as smooth as the music around it). FD-mel against held-out music.", "",
        table_reference_tasks(result), "",
        "**Table 2 — intensity, melody, structure.** Intensity: MSE between the output waveform's loudness curve and "
        "the target. Melody: frames whose strongest pitch class matches the target, from the project's chroma of "
        "the output audio and from basic-pitch's transcription. Structure: MSE between MFCC self-similarity "
        "matrices.", "",
        table_feature_controls(result), "",
        "**Table 3 — cost of control (intensity task).** Seconds per optimization step measured in this run (median "
        "over steps), peak memory of one step (CPU: resident memory in a fresh process; GPU: allocator peak), steps until the optimizer's own loudness error "
        f"first falls below τ = {TAU_DB:g} dB RMS, wall time per finished sample (optimization, rendering, vocoding).",
        "", table_cost(result), "",
        "**Table 5 — quality.** FD-mel (Fréchet distance on the project's window statistics of log-mel, chroma and "
        "onset strength; not FAD) of each cell's outputs.", "",
        table_quality(result),
    ])
