"""Evaluation at producer scale: every case run exactly as a producer's default job runs, measured on the WAV.

    python benchmarks/producer_eval.py --split tune                # tuning cases; prints, never writes docs/
    python benchmarks/producer_eval.py                             # held-out cases; writes docs/RESULTS.md
    python benchmarks/producer_eval.py --quick                     # smoke run: builtin-tiny, 2 items per task
    python benchmarks/producer_eval.py --report-only               # rebuild the tables from the run's records
    python benchmarks/producer_eval.py --draw 1                    # a fresh draw of held-out cases

Cases come from `engine.evaluation.producer_set` (48 intensity curves, 24 melodies, 12 structures, 12 each of
in-painting, out-painting and looping by default). Each runs as `engine.api.generate(Job.from_dict(job))` with
nothing but the job's controls, duration, seed and tags (the `final` preset, the default render, guidance and
stopping); the take is written with the project's WAV writer, read back and measured with
`engine.evaluation.producer_metrics` and `engine.evaluation.metrics`. Beside it run the same job without controls
(same seed and tags: the uncontrolled take, for FD-mel and the "no control" rows) and, on the first `--baselines`
cases of each task, the baselines through `engine.evaluation.runner.run_method` (FreeDoM, DOODL for intensity;
FreeDoM for melody and structure; naive masking and MultiDiffusion for in/out-painting and looping), decoded with
the model's own decoder and written and measured the same way.

Every finished item is appended to `results.jsonl` in the run folder (`--out`, default
runs/producer_eval/<split>, `-quick` added for smoke runs); a re-run skips what is there, so a stopped run
continues where it stopped. References for in/out-painting and looping are the model's own uncontrolled takes for
another seed and other tags, rendered once into the run folder. Only a full run of the held-out split (no
`--quick`, no `--no-write`) replaces the "evaluation" section of docs/RESULTS.md; a fresh draw (`--draw N`) has
a section of its own ("evaluation-draw-N"), beside the first draw's. `benchmarks/producer_pooled.py` reads
several run folders as one (FD-mel over their takes together, DITTO against each baseline on its cases).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from results_doc import provenance, update_section  # noqa: E402

from engine.audio.io import read_audio, write_wav  # noqa: E402
from engine.evaluation import metrics  # noqa: E402
from engine.evaluation import producer_metrics as pm  # noqa: E402
from engine.evaluation.fdmel import embed_set, frechet_distance  # noqa: E402
from engine.evaluation.producer_report import METHOD_NAMES, ResultStore, markdown, run_pending  # noqa: E402
from engine.evaluation.producer_set import DEFAULT_COUNTS, TASKS, Case, producer_cases  # noqa: E402
from engine.job import Job  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BASELINES = {"intensity": ("freedom", "doodl"), "melody": ("freedom",), "structure": ("freedom",),
             "inpaint": ("masking",), "outpaint": ("masking", "multidiffusion"),
             "loop": ("masking", "multidiffusion")}
QUICK_JOB = {"sampler": {"steps": 4}, "optimizer": {"steps": 2}}
"""What a smoke run adds to every job (tiny budgets); a full run adds nothing."""
QUICK_SECONDS = 3.0
MUSIC_CLIPS = 12
"""Held-out music clips (the evaluation set's references, rendered by the corpus recipe) for FD-mel."""
SIDECAR_SKIP = ("loss_history", "metric_history", "job", "model")


# ----------------------------------------------------------------------------------------------- measuring


def baseline_budget(args: argparse.Namespace) -> tuple[int, int]:
    """DDIM steps T and optimization steps K of the baselines (the default render's T; tiny in a smoke run)."""
    return (4, 2) if args.quick else (20, args.doodl_steps)


def baseline_cases(args: argparse.Namespace, method: str) -> int:
    """How many of a task's first cases `method` runs on: `--baselines`, or fewer for DOODL (`--doodl-cases`),
    whose full-sampler optimization costs several DITTO jobs per take."""
    if method == "doodl" and args.doodl_cases is not None:
        return min(args.baselines, args.doodl_cases)
    return args.baselines


def read_mono(path: Path) -> tuple[np.ndarray, int]:
    audio, rate = read_audio(path)
    return audio.mean(axis=0).astype(np.float64), rate


def measure(case: Case, job: Job, audio: np.ndarray, rate: int, model, transcriber, references: dict,
            *, music: np.ndarray | None = None, loudness_range=None) -> tuple[dict, bool]:
    """Metrics of one take read back from its WAV, and whether it is within the control's tolerance."""
    control = job.controls[0]
    if case.task == "intensity":
        frames = pm.frame_db(audio, rate).size
        target = pm.target_curve(control.times, control.db, frames, rate)
        values = {"mse_db2": pm.loudness_mse(audio, rate, target),
                  "silent": bool(pm.silent_stretch(audio, rate, target))}
        if music is not None:
            values["music_mse_db2"] = pm.loudness_mse(music, rate, pm.clipped_target(target, loudness_range))
            if loudness_range is not None:
                low, high = loudness_range
                values["target_inside_range"] = bool(low - 1e-6 <= min(control.db) and max(control.db) <= high + 1e-6)
                values["loudness_range"] = [float(low), float(high)]
        within = values["mse_db2"] <= control.tolerance ** 2 and not values["silent"]
        return values, within
    signal = metrics.mono(audio, rate, model.mel)
    spec = model.mel
    if case.task == "melody":
        notes = [dataclasses.asdict(n) for n in control.notes]
        target = pm.melody_target(notes, signal.size // spec.hop_length + 1, spec.sample_rate, hop=spec.hop_length)
        values = {"acc_chroma": metrics.melody_accuracy_chroma(signal, spec.sample_rate, target, spec=spec)}
        if transcriber is not None:
            values["acc_transcriber"] = metrics.melody_accuracy_transcribed(signal, spec.sample_rate, target,
                                                                           transcriber)
        accuracy = values.get("acc_transcriber", values["acc_chroma"])
        return values, accuracy >= 1.0 - control.tolerance
    from engine.evaluation.runner import task_metrics

    values, _ = task_metrics(case.task, signal, spec.sample_rate, job, model, references, None)
    key = "mse" if case.task == "structure" else "overlap_mse"
    return values, values[key] <= control.tolerance


# ----------------------------------------------------------------------------------------------- the run


class Run:
    """One evaluation run: the model, its run folder, the cases' jobs as the engine reads them."""

    def __init__(self, args: argparse.Namespace, cases: list[Case], out: Path):
        from engine.models.registry import load_model

        self.args, self.cases, self.out = args, cases, out
        self.model = load_model(args.model, args.device)
        self.rate = self.model.info.sample_rate
        self.overrides = QUICK_JOB if args.quick else {}
        self.reference_audio: dict[str, np.ndarray] = {}
        try:
            from engine.evaluation.transcriber import BasicPitchTranscriber

            self.transcriber = BasicPitchTranscriber()
        except Exception as error:  # the transcriber is optional: no basic-pitch column without it
            print(f"note: no basic-pitch column ({error})", flush=True)
            self.transcriber = None

    def job_data(self, case: Case, *, controls: bool = True) -> dict:
        data = {**case.job, **self.overrides, "model": self.args.model}
        if not controls:
            data = {k: v for k, v in data.items() if k != "controls"}
        return data

    def job(self, case: Case, *, controls: bool = True) -> Job:
        return Job.from_dict(self.job_data(case, controls=controls), base_dir=self.out)

    def wav(self, case: Case, method: str, suffix: str = "") -> Path:
        return self.out / "wavs" / case.task / f"{case.id}__{method}{suffix}.wav"

    def references_of(self, case: Case) -> dict[str, np.ndarray]:
        if case.reference is None:
            return {}
        name = case.reference.name
        if name not in self.reference_audio:
            audio, rate = read_audio(self.out / case.reference.path)
            self.reference_audio[name] = metrics.mono(audio, rate, self.model.mel)
        return {name: self.reference_audio[name]}

    # --- items

    def render_reference(self, case: Case) -> dict:
        from engine.api import generate

        spec = case.reference
        start = time.perf_counter()
        result = generate(Job.from_dict({**spec.job(self.args.model), **self.overrides}), model=self.model)
        write_wav(self.out / spec.path, result.audio[0], result.sample_rate)
        return {"task": case.task, "case": case.id, "method": "reference", "wav": spec.path,
                "seconds_to_wav": time.perf_counter() - start}

    def default_job(self, case: Case, *, controls: bool) -> dict:
        """The case's job (or the same job without controls) through `engine.api.generate`, as a producer runs it."""
        from engine.api import generate

        job = self.job(case)
        run_job = job if controls else self.job(case, controls=False)
        method = "ditto" if controls else "none"
        path = self.wav(case, method)
        start = time.perf_counter()
        result = generate(run_job, model=self.model)
        write_wav(path, result.audio[0], result.sample_rate)
        seconds = time.perf_counter() - start
        audio, rate = read_mono(path)
        music = loudness_range = None
        if controls and case.task == "intensity":
            music_audio = getattr(result, "music_audio", result.audio)  # the audio before any level gain
            music_audio = result.audio if music_audio is None else music_audio
            loudness_range = getattr(result, "loudness_range", None)
            if music_audio is result.audio or np.array_equal(music_audio, result.audio):
                music = audio
            else:
                music_path = write_wav(self.wav(case, method, "-music"), np.asarray(music_audio)[0], result.sample_rate)
                music, _ = read_mono(music_path)
        elif case.task == "intensity":
            music = audio
        values, within = measure(case, job, audio, rate, self.model, self.transcriber, self.references_of(case),
                                 music=music, loudness_range=loudness_range)
        record = {"task": case.task, "case": case.id, "method": method, "duration": job.duration,
                  "tags": list(job.tags), "meta": case.meta, "wav": str(path.relative_to(self.out)),
                  "seconds_to_wav": seconds, "metrics": values, "within": bool(within),
                  "converged": bool(result.converged), "steps_run": int(result.steps_run)}
        if controls:
            sidecar = result.to_sidecar()
            record["report"] = {k: v for k, v in sidecar.items() if k not in SIDECAR_SKIP}
            record["report"]["history_steps"] = len(sidecar.get("loss_history", []))
        return record

    def baseline(self, case: Case, method: str) -> dict:
        from engine.baselines.schedule import BaselineDivergedError
        from engine.evaluation.runner import RunConfig, decode, initial_noise, run_method

        steps, k = baseline_budget(self.args)
        data = {**self.job_data(case), "sampler": {"name": "ddim", "steps": steps},
                "optimizer": {"steps": k, "lr": self.args.baseline_lr, "early_stop": False}}
        job = Job.from_dict(data, base_dir=self.out)
        config = RunConfig(model=self.args.model, sampler_steps=steps, lr=self.args.baseline_lr,
                           freedom_strength=self.args.freedom_strength, device=self.args.device)
        path = self.wav(case, method)
        start = time.perf_counter()
        x_T = initial_noise(self.model, job.duration, job.seed)
        record = {"task": case.task, "case": case.id, "method": method, "duration": job.duration,
                  "tags": list(job.tags), "meta": case.meta}
        try:
            output = run_method(method, case.task, self.model, job, x_T, config)
        except BaselineDivergedError as error:  # the guidance blew the sample up: no audio to write
            return {**record, "diverged": str(error), "metrics": {}, "within": False,
                    "seconds_to_wav": time.perf_counter() - start}
        record["steps_run"] = int(output.optimizer_steps)
        if not torch.isfinite(output.latent).all():
            return {**record, "diverged": "the sample is not finite", "metrics": {}, "within": False,
                    "seconds_to_wav": time.perf_counter() - start}
        write_wav(path, decode(self.model, output.latent, job.duration)[None], self.rate)
        seconds = time.perf_counter() - start
        audio, rate = read_mono(path)
        values, within = measure(case, job, audio, rate, self.model, self.transcriber, self.references_of(case),
                                 music=audio if case.task == "intensity" else None)
        return {**record, "wav": str(path.relative_to(self.out)), "seconds_to_wav": seconds, "metrics": values,
                "within": bool(within)}

    def rejudge(self, record: dict) -> dict:
        """`record` measured again from its WAV with today's measures and the job's controls as they are built
        now (a control whose target changed), with `rejudged` saying so. Not for intensity records, whose gain
        split needs the run that made them."""
        case = next(c for c in self.cases if c.id == record["case"])
        job = self.job(case)
        audio, rate = read_mono(self.out / record["wav"])
        values, within = measure(case, job, audio, rate, self.model, self.transcriber, self.references_of(case))
        first = record.get("rejudged", {}).get("before", {"metrics": record["metrics"], "within": record["within"]})
        return {**record, "metrics": {**record["metrics"], **values}, "within": bool(within),
                "rejudged": {"before": first}}

    def items(self, store: ResultStore):
        """(key, make) for every item, in order: per task its references, default jobs, uncontrolled jobs, then
        the baselines on the first cases."""
        for task in TASKS:
            cases = [c for c in self.cases if c.task == task]
            for case in cases:
                if case.reference is not None and (not store.has(f"ref/{case.id}")
                                                   or not (self.out / case.reference.path).is_file()):
                    store.records.pop(f"ref/{case.id}", None)
                    yield f"ref/{case.id}", lambda c=case: self.render_reference(c)
                yield f"{task}/{case.id}/ditto", lambda c=case: self.default_job(c, controls=True)
                yield f"{task}/{case.id}/none", lambda c=case: self.default_job(c, controls=False)
            for method in BASELINES[task]:
                for case in cases[: baseline_cases(self.args, method)]:
                    yield f"{task}/{case.id}/{method}", lambda c=case, m=method: self.baseline(c, m)


# ----------------------------------------------------------------------------------------------- FD-mel


def music_clips(out: Path, count: int) -> list[np.ndarray]:
    """Held-out music: the evaluation set's reference clips (the corpus recipe on held-out pieces)."""
    from engine.evaluation.evalset import load_evalset, render_references

    evalset = load_evalset()
    names = [clip.name for clip in evalset.references][:count]
    paths = render_references(evalset, out / "music", names=names)
    return [metrics.mono(*read_mono(paths[name])) for name in names]


def fd_values(records: list[dict], out: Path, music: list[np.ndarray]) -> dict:
    """Per task and method: FD-mel against the uncontrolled takes of the same cases, against held-out music, and
    the ratio over the uncontrolled takes' own distance to the music, also with every clip level-normalized (so a
    take that only plays louder or quieter is not counted as other music) and against the uncontrolled takes
    given each controlled take's loudness contour (`with_dynamics_of`: so a curve's ramps and drops are not
    counted as other music either); and the median level shift (dB RMS) of each take over the uncontrolled take
    of its case."""
    by_key = {(r["task"], r["case"], r["method"]): r for r in records if "case" in r}
    cells: dict[tuple[str, str], list[dict]] = {}
    for r in records:
        if r.get("method") in METHOD_NAMES and r["method"] != "none":
            cells.setdefault((r["task"], r["method"]), []).append(r)
    music_rate = 22050

    def load(record: dict) -> np.ndarray:
        audio, rate = read_mono(out / record["wav"])
        return metrics.mono(audio, rate)  # at the mel rate FD-mel embeds at

    real = {"": embed_set(music, music_rate),
            "_normalized": embed_set([pm.normalized(c) for c in music], music_rate)}
    fd = {}
    for (task, method), items in cells.items():
        pairs = [(r, by_key.get((task, r["case"], "none"))) for r in items]
        pairs = [(r, u) for r, u in pairs if u is not None and "wav" in r and (out / r["wav"]).is_file()
                 and (out / u["wav"]).is_file()]
        if len(pairs) < 1:
            continue
        clips, free = [load(r) for r, _ in pairs], [load(u) for _, u in pairs]
        shifts = [pm.rms_db(c) - pm.rms_db(u) for c, u in zip(clips, free, strict=True)]
        value = {"n": len(pairs), "level_shift_db": float(np.median(shifts))}
        own = embed_set(clips, music_rate)
        variants = {  # suffix: (the method's takes, the uncontrolled takes, held-out music), embedded
            "": (own, embed_set(free, music_rate), real[""]),
            "_normalized": (embed_set([pm.normalized(c) for c in clips], music_rate),
                            embed_set([pm.normalized(u) for u in free], music_rate), real["_normalized"]),
            "_dynamics_matched": (own, embed_set([pm.with_dynamics_of(u, c, music_rate)
                                                  for c, u in zip(clips, free, strict=True)], music_rate), real[""])}
        for suffix, (takes, unc, heldout) in variants.items():
            vs_music, free_music = frechet_distance(takes, heldout), frechet_distance(unc, heldout)
            if not suffix:
                value["vs_uncontrolled"] = frechet_distance(takes, unc)
                value["vs_music"] = vs_music
            value["ratio" + suffix] = vs_music / free_music if free_music > 0 else float("nan")
        fd[(task, method)] = value
    return fd


# ----------------------------------------------------------------------------------------------- main


def settings_line(args: argparse.Namespace, counts: dict, records: list[dict], model_name: str) -> str:
    ditto = sorted((r for r in records if r.get("method") == "ditto"), key=lambda r: r.get("task") != "intensity")
    plan = ditto[0].get("report", {}).get("plan", {}) if ditto else {}
    chain, render = plan.get("optimized_through", {}), plan.get("rendered_with", {})
    seconds = sum(r.get("seconds_to_wav", 0.0) for r in records)
    steps, k = baseline_budget(args)
    preset = (f"optimized through {chain.get('name')} {chain.get('steps')}, rendered with {render.get('name')} "
              f"{render.get('steps')}, K ≤ {plan.get('optimizer_steps')} (+{plan.get('extra_steps', 0)} when close), "
              f"lr {plan.get('lr')}, at most {plan.get('time_budget_s')} s of optimization"
              + (f"; an intensity job first runs up to {plan['level_start_renders']} level renders"
                 if plan.get("level_start_renders") else "")) if plan else "—"
    job = f"QUICK: every job gets {json.dumps(QUICK_JOB)}" if args.quick else "`quality: final`, nothing overridden"
    draw = f", draw {args.draw}" if args.draw else ""
    return (f"Model `{model_name}`; split `{args.split}`{draw}; cases per task: "
            + ", ".join(f"{t} {n}" for t, n in counts.items() if n)
            + f". DITTO = the default job ({job}: {preset}). Baselines on the first cases of each task (N "
            f"in the tables): DDIM {steps}, DOODL K = {k}, lr {args.baseline_lr:g} "
            f"(DOODL's clip scaled with it: the previous evaluation's settings, not re-tuned on these weights), "
            f"FreeDoM strength {args.freedom_strength:g} (the tune split's best of 0.05-1 is 0.05, section "
            f"\"baseline-tuning\"). Seconds to WAV: generation and the WAV write, "
            f"with the model already loaded (as in the daemon). {args.threads} torch threads; "
            f"{seconds / 3600:.2f} h of generation in the records.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("tune", "heldout"), default="heldout")
    parser.add_argument("--draw", type=int, default=0,
                        help="0: the split's first draw of cases; N > 0: a fresh draw nobody has looked at")
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    for task in TASKS:
        parser.add_argument(f"--n-{task}", type=int, default=None, help=f"cases (default {DEFAULT_COUNTS[task]})")
    parser.add_argument("--baselines", type=int, default=12, help="cases per task the baselines run on (0: none)")
    parser.add_argument("--doodl-cases", type=int, default=None, help="cases per task DOODL runs on (default: --baselines)")
    parser.add_argument("--doodl-steps", type=int, default=15)
    parser.add_argument("--baseline-lr", type=float, default=0.02)
    parser.add_argument("--freedom-strength", type=float, default=0.05)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", default=None, help="default: builtin (builtin-tiny with --quick)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", type=Path, default=None, help="run folder (default runs/producer_eval/<split>)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 cases per task, 3-s clips, tiny budgets")
    parser.add_argument("--report-only", action="store_true", help="rebuild the tables from the run's records")
    parser.add_argument("--no-write", action="store_true", help="leave docs/RESULTS.md alone")
    parser.add_argument("--rejudge", nargs="+", default=[], choices=[t for t in TASKS if t != "intensity"],
                        help="measure these tasks' records again from their WAVs (after a control's target "
                             "changed), then report")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.model = args.model or ("builtin-tiny" if args.quick else "builtin")
    counts = {t: (getattr(args, f"n_{t}") if getattr(args, f"n_{t}") is not None else DEFAULT_COUNTS[t])
              if t in args.tasks else 0 for t in TASKS}
    if args.quick:
        counts = {t: min(n, 2) for t, n in counts.items()}
        args.baselines = min(args.baselines, 1)
    name = args.split + (f"-d{args.draw}" if args.draw else "") + ("-quick" if args.quick else "")
    out = args.out or ROOT / "runs" / "producer_eval" / name
    out.mkdir(parents=True, exist_ok=True)
    settings = {"split": args.split, "model": args.model, "quick": args.quick}
    settings.update({"draw": args.draw} if args.draw else {})
    settings_path = out / "settings.json"
    if settings_path.is_file() and json.loads(settings_path.read_text()) != settings:
        print(f"{out} holds a run with other settings ({settings_path.read_text().strip()}); choose another --out",
              file=sys.stderr)
        return 2
    settings_path.write_text(json.dumps(settings) + "\n")

    cases = producer_cases(args.split, counts, clip_seconds=QUICK_SECONDS if args.quick else None, draw=args.draw)
    store = ResultStore(out / "results.jsonl")
    started = time.perf_counter()
    if args.rejudge:
        rejudge_records(Run(args, cases, out), store, {c.id for c in cases if c.task in args.rejudge})
    if not args.report_only:
        run = Run(args, cases, out)
        items = list(run.items(store))
        todo = sum(1 for key, _ in items if not store.has(key))
        print(f"{len(cases)} cases, {len(items)} items, {len(items) - todo} already done; run folder {out}",
              flush=True)
        done = [0]

        def progress(line: str) -> None:
            done[0] += 1
            elapsed = time.perf_counter() - started
            eta = elapsed / done[0] * (todo - done[0])
            print(f"[{done[0]}/{todo}, {elapsed / 60:.1f} min, ~{eta / 60:.0f} min left] {line}", flush=True)

        failed = run_pending(store, items, progress, keep_going=True)
        for key, error in failed:
            print(f"FAILED {key}: {error}", flush=True)
    ids = {c.id for c in cases}
    records = [r for r in store.values() if r.get("case") in ids]
    music = music_clips(out, 4 if args.quick else MUSIC_CLIPS)
    fd = fd_values(records, out, music)
    body = markdown(records, fd, settings_line(args, counts, records, args.model))
    command = ("python benchmarks/producer_eval.py" + ("" if args.split == "heldout" else f" --split {args.split}")
               + (f" --draw {args.draw}" if args.draw else ""))
    heading = f"## Evaluation at producer scale (`{command}`)"
    if args.quick:
        heading += " — QUICK SMOKE RUN, not results"
    print("\n" + heading + "\n\n" + body)
    complete = all(store.has(key) for key in expected_keys(cases, args))
    if args.quick or args.no_write or args.split != "heldout":
        return 0
    if not complete:
        print("\nthe run is not complete (stopped, or items failed): docs/RESULTS.md left alone (re-run to continue)")
        return 0
    section = "evaluation" + (f"-draw-{args.draw}" if args.draw else "")
    update_section(section, "\n".join([heading, "", provenance(), "", body]))
    print(f"\nwrote docs/RESULTS.md (section {section})")
    return 0


def rejudge_records(run: Run, store: ResultStore, case_ids: set[str]) -> None:
    """Append each of `case_ids`' records measured again from its WAV (`Run.rejudge`); the first measurement
    stays in the record under `rejudged.before`."""
    for record in [r for r in store.values() if r.get("case") in case_ids and r.get("method") != "reference"]:
        store.append(run.rejudge(record))
        print(f"rejudged {record['key']}: {record['metrics']} -> {store.records[record['key']]['metrics']}",
              flush=True)


def expected_keys(cases: list[Case], args: argparse.Namespace) -> list[str]:
    keys = []
    for task in TASKS:
        task_cases = [c for c in cases if c.task == task]
        keys += [f"{task}/{c.id}/{m}" for c in task_cases for m in ("ditto", "none")]
        keys += [f"{task}/{c.id}/{m}" for m in BASELINES[task] for c in task_cases[: baseline_cases(args, m)]]
    return keys


if __name__ == "__main__":
    sys.exit(main())
