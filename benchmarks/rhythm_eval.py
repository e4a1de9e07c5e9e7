"""Rhythm evaluation: every case run exactly as a producer's default job runs, its onsets and tempo measured on the WAV.

    python benchmarks/rhythm_eval.py --split tune                # tuning cases; prints, never writes docs/
    python benchmarks/rhythm_eval.py                             # held-out cases; writes docs/RESULTS.md
    python benchmarks/rhythm_eval.py --draw 1                    # a fresh draw of held-out cases
    python benchmarks/rhythm_eval.py --quick                     # smoke run: builtin-tiny, 2 cases, tiny budgets
    python benchmarks/rhythm_eval.py --report-only               # rebuild the tables from the run's records

Cases come from `engine.evaluation.rhythm_set` (36 a split by default: half the corpus's own drum patterns, half
step grids, at 70-170 BPM). Per case:

- `ditto`: the case's job as `engine.api.generate(Job.from_dict(job))` runs it, with nothing but its rhythm
  control, duration, seed and tags (the `final` preset, the default render, guidance and stopping);
- `none`: the same job without controls (same seed and tags): the uncontrolled take;
- `freedom`: on the first `--baselines` cases, FreeDoM through `engine.evaluation.runner.run_method` (DDIM 20,
  strength 0.05, what the tune split chose for the other controls on this model: `benchmarks/tune_baselines.py`),
  decoded with the model's own decoder;
- `target`: the target itself played on the General MIDI kit (`rhythm_set.target_drums`, rendered with the
  corpus's soundfont): what the meter finds where the rhythm is certainly there, the ceiling of its numbers.

Every take is written with the project's WAV writer, read back and measured with `engine.evaluation.onsets`, which
shares no code with the engine's onset feature: onset F-measure at +-50 ms against the case's target onsets (from
50 ms on, where librosa's detector can see), the tempo librosa's beat tracker finds (within 4 % of the target,
half or double not counted), and seconds to WAV. FD-mel compares each method's takes with the uncontrolled takes
of the same cases. Tables give medians and tails per method, per source (drum pattern / grid), per tempo band and
per tag kind (drum-bearing / tonal).

Every finished item is appended to `results.jsonl` in the run folder (`--out`, default runs/rhythm_eval/<split>,
`-dN` added for a fresh draw, `-quick` for smoke runs); a re-run skips what is there, so a stopped run continues
where it stopped. Only a complete run of the full held-out split (no `--quick`, no `--no-write`, the default
count) replaces the "rhythm" section of docs/RESULTS.md; a fresh draw (`--draw N`) has a section of its own
("rhythm-draw-N"), beside the first draw's.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from producer_eval import music_clips
from results_doc import markdown_table, provenance, update_section

from engine.audio.io import read_audio, write_wav
from engine.evaluation import metrics
from engine.evaluation import onsets as meter
from engine.evaluation.fdmel import embed_set, frechet_distance
from engine.evaluation.producer_metrics import summary
from engine.evaluation.producer_report import ResultStore, run_pending
from engine.evaluation.rhythm_set import DEFAULT_COUNT, SOURCE_NAMES, RhythmCase, rhythm_cases, target_drums
from engine.job import Job

ROOT = Path(__file__).resolve().parent.parent
METHOD_NAMES = {"ditto": "DITTO (default job)", "none": "no control", "freedom": "FreeDoM",
                "target": "the target on a GM kit"}
QUICK_JOB = {"sampler": {"steps": 4}, "optimizer": {"steps": 2}}
"""What a smoke run adds to every job (tiny budgets); a full run adds nothing."""
QUICK_SECONDS = 3.0
MUSIC_CLIPS = 12
"""Held-out music clips (the evaluation set's references, rendered by the corpus recipe) for FD-mel."""
BASELINE_STEPS = 20
"""DDIM steps of FreeDoM (the default render's count; 4 in a smoke run)."""
TARGET_PEAK_DBFS = -3.0
SIDECAR_SKIP = ("loss_history", "metric_history", "job", "model")
TAG_KIND_NAMES = {"drums": "drum-bearing tags", "tonal": "tonal tags"}


# ----------------------------------------------------------------------------------------------- measuring


def read_mono(path: Path) -> tuple[np.ndarray, int]:
    audio, rate = read_audio(path)
    return audio.mean(axis=0).astype(np.float64), rate


def measure(case: RhythmCase, audio: np.ndarray, rate: int, tolerance: float) -> tuple[dict, bool]:
    """The meter's numbers on one take read back from its WAV, and whether its F-measure meets the control's
    tolerance (F >= 1 - tolerance)."""
    values = meter.clip_onset_f_measure(audio, rate, case.onsets, window=meter.WINDOW_SECONDS)
    values["agreement"] = engine_agreement(audio, rate)
    tempo = meter.beat_tempo(audio, rate)
    values["tempo"] = tempo
    values["tempo_ok"] = meter.tempo_matches(tempo, case.tempo)
    values["tempo_octave"] = (meter.tempo_matches(tempo, 2.0 * case.tempo)
                              or meter.tempo_matches(tempo, 0.5 * case.tempo))
    return values, values["f"] >= 1.0 - tolerance


def engine_agreement(audio: np.ndarray, rate: int) -> float:
    """F-measure (+-50 ms, from 50 ms on) between the onsets the engine's own feature picks on a WAV's log-mel and
    the meter's: how far the control's view of onsets and the meter's agree on the same audio."""
    from engine.audio.mel import MelSpec, log_mel
    from engine.audio.resample import resample
    from engine.features.rhythm import onset_seconds

    spec = MelSpec()
    signal = torch.from_numpy(np.asarray(audio, dtype=np.float32))
    if rate != spec.sample_rate:
        signal = resample(signal, rate, spec.sample_rate)
    own = onset_seconds(log_mel(signal, spec), spec)
    found = meter.detect_onsets(audio, rate)
    return meter.onset_f_measure(own[own >= meter.BLIND_SECONDS], found[found >= meter.BLIND_SECONDS],
                                 meter.WINDOW_SECONDS)[0]


# ----------------------------------------------------------------------------------------------- the run


class Run:
    """One evaluation run: the model, its run folder, the cases' jobs as the engine reads them."""

    def __init__(self, args: argparse.Namespace, cases: list[RhythmCase], out: Path):
        from engine.models.registry import load_model

        self.args, self.cases, self.out = args, cases, out
        self.model = load_model(args.model, args.device)
        self.rate = self.model.info.sample_rate
        self.overrides = QUICK_JOB if args.quick else {}

    def job_data(self, case: RhythmCase, *, controls: bool = True) -> dict:
        data = {**case.job, **self.overrides, "model": self.args.model}
        if not controls:
            data = {k: v for k, v in data.items() if k != "controls"}
        return data

    def tolerance(self, case: RhythmCase) -> float:
        return float(Job.from_dict(self.job_data(case)).controls[0].tolerance)

    def wav(self, case: RhythmCase, method: str) -> Path:
        return self.out / "wavs" / case.source / f"{case.id}__{method}.wav"

    def record(self, case: RhythmCase, method: str) -> dict:
        return {"case": case.id, "source": case.source, "band": case.band, "tag_kind": case.meta["tag_kind"],
                "method": method, "tempo_target": case.tempo, "duration": case.duration, "tags": case.job["tags"],
                "meta": case.meta}

    def measured(self, case: RhythmCase, record: dict, path: Path, seconds: float) -> dict:
        audio, rate = read_mono(path)
        values, within = measure(case, audio, rate, self.tolerance(case))
        return {**record, "wav": str(path.relative_to(self.out)), "seconds_to_wav": seconds, "metrics": values,
                "within": bool(within)}

    # --- items

    def default_job(self, case: RhythmCase, *, controls: bool) -> dict:
        """The case's job (or the same job without controls) through `engine.api.generate`, as a producer runs it."""
        from engine.api import generate

        method = "ditto" if controls else "none"
        job = Job.from_dict(self.job_data(case, controls=controls))
        path = self.wav(case, method)
        start = time.perf_counter()
        result = generate(job, model=self.model)
        write_wav(path, result.audio[0], result.sample_rate)
        seconds = time.perf_counter() - start
        record = {**self.record(case, method), "converged": bool(result.converged),
                  "steps_run": int(result.steps_run)}
        if controls:
            sidecar = result.to_sidecar()
            record["report"] = {k: v for k, v in sidecar.items() if k not in SIDECAR_SKIP}
            record["report"]["history_steps"] = len(sidecar.get("loss_history", []))
        return self.measured(case, record, path, seconds)

    def baseline(self, case: RhythmCase, method: str) -> dict:
        from engine.baselines.schedule import BaselineDivergedError
        from engine.evaluation.runner import RunConfig, decode, initial_noise, run_method

        steps = 4 if self.args.quick else BASELINE_STEPS
        job = Job.from_dict({**self.job_data(case), "sampler": {"name": "ddim", "steps": steps}})
        config = RunConfig(model=self.args.model, sampler_steps=steps, freedom_strength=self.args.freedom_strength,
                           device=self.args.device)
        record = self.record(case, method)
        path = self.wav(case, method)
        start = time.perf_counter()
        x_T = initial_noise(self.model, job.duration, job.seed)
        try:
            output = run_method(method, "rhythm", self.model, job, x_T, config)
        except BaselineDivergedError as error:  # the guidance blew the sample up: no audio to write
            return {**record, "diverged": str(error), "metrics": {}, "within": False,
                    "seconds_to_wav": time.perf_counter() - start}
        if not torch.isfinite(output.latent).all():
            return {**record, "diverged": "the sample is not finite", "metrics": {}, "within": False,
                    "seconds_to_wav": time.perf_counter() - start}
        write_wav(path, decode(self.model, output.latent, job.duration)[None], self.rate)
        return self.measured(case, record, path, time.perf_counter() - start)

    def target(self, case: RhythmCase) -> dict:
        """The target played on the corpus's General MIDI kit, at the model's sample rate."""
        from engine.training.corpus_dynamics import Envelope
        from engine.training.corpus_render import bundled_soundfont, normalize_peak, render_parts

        path = self.wav(case, "target")
        start = time.perf_counter()
        audio = render_parts([target_drums(case)], Envelope((0.0,), (110.0,)), soundfont=bundled_soundfont(),
                             sample_rate=self.rate, n_samples=round(case.duration * self.rate))
        write_wav(path, normalize_peak(audio, TARGET_PEAK_DBFS)[None], self.rate)
        return self.measured(case, self.record(case, "target"), path, time.perf_counter() - start)

    def items(self):
        """(key, make) for every item, in order: per case the target, the default job and the uncontrolled job,
        then FreeDoM on the first cases."""
        for case in self.cases:
            yield f"rhythm/{case.id}/target", lambda c=case: self.target(c)
            yield f"rhythm/{case.id}/ditto", lambda c=case: self.default_job(c, controls=True)
            yield f"rhythm/{case.id}/none", lambda c=case: self.default_job(c, controls=False)
        for case in self.cases[: self.args.baselines]:
            yield f"rhythm/{case.id}/freedom", lambda c=case: self.baseline(c, "freedom")


def expected_keys(cases: list[RhythmCase], baselines: int) -> list[str]:
    keys = [f"rhythm/{c.id}/{m}" for c in cases for m in ("target", "ditto", "none")]
    return keys + [f"rhythm/{c.id}/freedom" for c in cases[:baselines]]


# ----------------------------------------------------------------------------------------------- FD-mel


def fd_values(records: list[dict], out: Path, music: list[np.ndarray]) -> dict[str, dict]:
    """Per generating method: FD-mel between its takes and the uncontrolled takes of the same cases, against
    held-out music, and the ratio over the uncontrolled takes' own distance to that music."""
    uncontrolled = {r["case"]: r for r in records if r["method"] == "none" and "wav" in r}
    rate = metrics.SPEC.sample_rate
    real = embed_set(music, rate)
    fd = {}
    for method in ("ditto", "freedom"):
        pairs = [(r, uncontrolled[r["case"]]) for r in records
                 if r["method"] == method and "wav" in r and r["case"] in uncontrolled]
        if len(pairs) < 2:
            continue
        own = embed_set([metrics.mono(*read_mono(out / r["wav"])) for r, _ in pairs], rate)
        free = embed_set([metrics.mono(*read_mono(out / u["wav"])) for _, u in pairs], rate)
        vs_music, free_music = frechet_distance(own, real), frechet_distance(free, real)
        fd[method] = {"n": len(pairs), "vs_uncontrolled": frechet_distance(own, free), "vs_music": vs_music,
                      "uncontrolled_vs_music": free_music,
                      "ratio": vs_music / free_music if free_music > 0 else float("nan")}
    return fd


# ----------------------------------------------------------------------------------------------- tables


def _fmt(value: float, digits: int = 2) -> str:
    return "—" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def _share(flags: list[bool]) -> str:
    return "—" if not flags else f"{100.0 * sum(flags) / len(flags):.0f} %"


def _row(items: list[dict]) -> list[str]:
    """N, F median, F p10, precision and recall medians, share within tolerance, tempo within 4 %, tempo at half or
    double, seconds to WAV median and p90."""
    measured = [r for r in items if r.get("metrics")]
    diverged = len(items) - len(measured)
    f = summary([r["metrics"]["f"] for r in measured])
    seconds = summary([r["seconds_to_wav"] for r in measured])
    n = f"{len(measured)}" + (f" + {diverged} diverged" if diverged else "")
    return [n, _fmt(f["median"]), _fmt(f["p10"]), _fmt(summary([r["metrics"]["precision"] for r in measured])["median"]),
            _fmt(summary([r["metrics"]["recall"] for r in measured])["median"]), _share([r["within"] for r in items]),
            _share([r["metrics"]["tempo_ok"] for r in measured]),
            _share([r["metrics"]["tempo_octave"] for r in measured]), _fmt(seconds["median"], 1),
            _fmt(seconds["p90"], 1)]


HEADER = ["N", "F median", "F p10 (bad tail)", "precision median", "recall median", "within tolerance",
          "tempo within 4 %", "tempo at half/double", "s to WAV median", "s to WAV p90"]


def group_table(records: list[dict], key: str | None, names: dict[str, str] | None = None) -> str:
    """One row per method (and per value of `key` when given), in method order."""
    rows = []
    groups = [None] if key is None else list(dict.fromkeys(r[key] for r in records))
    for group in groups:
        for method, label in METHOD_NAMES.items():
            items = [r for r in records if r["method"] == method and (key is None or r[key] == group)]
            if not items:
                continue
            lead = [label] if key is None else [(names or {}).get(group, group), label]
            rows.append(lead + _row(items))
    lead_header = ["method"] if key is None else [key.replace("_", " "), "method"]
    return markdown_table(lead_header + HEADER, rows)


def engine_view_table(records: list[dict]) -> str:
    """The engine's own verdict on its takes (its onset feature on the rendered mel, `controls_report`) beside the
    meter's on the WAV: where they disagree, the control's feature and the music heard part ways."""
    rows = []
    for source in [None, *dict.fromkeys(r["source"] for r in records)]:
        items = [r for r in records if r["method"] == "ditto" and r.get("metrics") and r.get("report")
                 and (source is None or r["source"] == source)]
        own = [r["report"]["controls_report"][0][0] for r in items if r["report"].get("controls_report")]
        if not own:
            continue
        met = [bool(c["met"]) for c in own]
        within = [bool(r["within"]) for r in items]
        rows.append(["all" if source is None else SOURCE_NAMES[source], len(own),
                     _fmt(summary([1.0 - c["metric"] for c in own])["median"]),
                     _fmt(summary([r["metrics"]["f"] for r in items])["median"]), _share(met), _share(within),
                     _share([a == b for a, b in zip(met, within)])])
    header = ["cases", "N", "engine's F median", "meter's F median", "engine says met", "meter: within tolerance",
              "verdicts agree"]
    return markdown_table(header, rows) if rows else "—"


def agreement_table(records: list[dict]) -> str:
    """Per method, how far the engine's onsets and the meter's agree on the same WAVs (median and p10 of F)."""
    rows = []
    for method, label in METHOD_NAMES.items():
        values = [r["metrics"]["agreement"] for r in records if r["method"] == method and "agreement" in
                  r.get("metrics", {})]
        if values:
            rows.append([label, len(values), _fmt(summary(values)["median"]), _fmt(summary(values)["p10"])])
    return markdown_table(["takes", "N", "agreement F median", "agreement F p10"], rows) if rows else "—"


def fd_table(fd: dict[str, dict]) -> str:
    rows = [[METHOD_NAMES[m], v["n"], _fmt(v["vs_uncontrolled"], 1), _fmt(v["vs_music"], 1),
             _fmt(v["uncontrolled_vs_music"], 1), _fmt(v["ratio"])] for m, v in fd.items()]
    header = ["method", "N (cases with both takes)", "FD-mel vs uncontrolled", "FD-mel vs held-out music",
              "uncontrolled (same cases) vs music", "ratio controlled / uncontrolled"]
    return markdown_table(header, rows) if rows else "—"


def markdown(records: list[dict], fd: dict[str, dict], settings: str) -> str:
    tempo_order = {"slow": 0, "mid": 1, "fast": 2}
    by_band = sorted(records, key=lambda r: tempo_order.get(r["band"], 3))
    return "\n".join([
        settings, "",
        ("**Onsets and tempo on the WAV.** Onsets found by librosa (spectral-flux onset strength, hop 128, no "
        "backtracking) matched one to one with the target onsets within ±50 ms, both from 50 ms on (librosa's "
        "detector cannot see the first 29 ms); F = 2PR / (P + R). Within tolerance: F ≥ 1 - the control's "
        "tolerance (0.08). Tempo: librosa's beat tracker's global tempo, within 4 % of the tempo the producer set; "
        "half or double is counted apart and not as a match. The target row is the target played on the corpus's "
        "GM kit and measured the same way: the meter's ceiling."), "",
        group_table(records, None), "",
        "**Per source.**", "", group_table(records, "source", SOURCE_NAMES), "",
        "**Per tempo band** (slow < 100 BPM, mid 100-134, fast ≥ 135).", "", group_table(by_band, "band"), "",
        "**Per tag kind.**", "", group_table(records, "tag_kind", TAG_KIND_NAMES), "",
        ("**DITTO: the engine's verdict and the meter's.** The engine's F is its own onset feature on the rendered "
         "take (the job's report); the meter's is librosa's on the WAV."), "", engine_view_table(records), "",
        ("**The engine's onsets and the meter's on the same WAVs** (F at ±50 ms between the onsets the engine's "
         "feature picks on each WAV's log-mel and librosa's): on uncontrolled takes, how well the control's view "
         "of onsets stands for the meter's."), "", agreement_table(records), "",
        ("**Quality: FD-mel** (Fréchet distance on the project's log-mel/chroma/onset window statistics; not FAD) "
         f"between a method's takes and the uncontrolled takes of the same cases, and against {MUSIC_CLIPS} held-out "
         "music clips (the evaluation set's references, as in the producer-scale evaluation); the ratio is the "
         "method's distance to the music over the uncontrolled takes' (1 = no worse than uncontrolled)."), "",
        fd_table(fd),
    ])


def settings_line(args: argparse.Namespace, n_cases: int, records: list[dict]) -> str:
    ditto = [r for r in records if r.get("method") == "ditto"]
    plan = ditto[0].get("report", {}).get("plan", {}) if ditto else {}
    chain, render = plan.get("optimized_through", {}), plan.get("rendered_with", {})
    limit = plan.get("time_budget_s")
    budget = "no time limit" if limit is None else f"at most {limit} s of optimization"
    preset = (f"optimized through {chain.get('name')} {chain.get('steps')}, rendered with {render.get('name')} "
              f"{render.get('steps')}, K ≤ {plan.get('optimizer_steps')} (+{plan.get('extra_steps', 0)} when close), "
              f"lr {plan.get('lr')}, {budget}") if plan else "—"
    job = f"QUICK: every job gets {json.dumps(QUICK_JOB)}" if args.quick else "`quality: final`, nothing overridden"
    hours = sum(r.get("seconds_to_wav", 0.0) for r in records if r.get("method") != "target") / 3600
    steps = 4 if args.quick else BASELINE_STEPS
    draw = f", draw {args.draw}" if args.draw else ""
    return (f"Model `{args.model}`; split `{args.split}`{draw}; {n_cases} cases (drum patterns and grids alternating). "
            f"DITTO = the default job ({job}: {preset}). FreeDoM on the first {args.baselines} cases: DDIM {steps}, "
            f"strength {args.freedom_strength:g} (the tune split's best for the other controls, section "
            f"\"baseline-tuning\"; not re-tuned for rhythm). Seconds to WAV: generation and the WAV write, with the "
            f"model already loaded (as in the daemon). {args.threads} torch threads; {hours:.2f} h of generation "
            f"in the records.")


# ----------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("tune", "heldout"), default="heldout")
    parser.add_argument("--draw", type=int, default=0,
                        help="0: the split's first draw of cases; N > 0: a fresh draw nobody has looked at")
    parser.add_argument("--n", type=int, default=DEFAULT_COUNT, help=f"cases (default {DEFAULT_COUNT})")
    parser.add_argument("--baselines", type=int, default=6, help="cases FreeDoM runs on (0: none)")
    parser.add_argument("--freedom-strength", type=float, default=0.05)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", default=None, help="default: builtin (builtin-tiny with --quick)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", type=Path, default=None, help="run folder (default runs/rhythm_eval/<split>)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 cases, 3-s clips, tiny budgets")
    parser.add_argument("--report-only", action="store_true", help="rebuild the tables from the run's records")
    parser.add_argument("--no-write", action="store_true", help="leave docs/RESULTS.md alone")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.model = args.model or ("builtin-tiny" if args.quick else "builtin")
    if args.quick:
        args.n, args.baselines = min(args.n, 2), min(args.baselines, 1)
    name = args.split + (f"-d{args.draw}" if args.draw else "") + ("-quick" if args.quick else "")
    out = args.out or ROOT / "runs" / "rhythm_eval" / name
    out.mkdir(parents=True, exist_ok=True)
    settings = {"split": args.split, "model": args.model, "quick": args.quick}
    settings.update({"draw": args.draw} if args.draw else {})
    settings_path = out / "settings.json"
    if settings_path.is_file() and json.loads(settings_path.read_text()) != settings:
        print(f"{out} holds a run with other settings ({settings_path.read_text().strip()}); choose another --out",
              file=sys.stderr)
        return 2
    settings_path.write_text(json.dumps(settings) + "\n")

    cases = rhythm_cases(args.split, args.n, clip_seconds=QUICK_SECONDS if args.quick else None, draw=args.draw)
    store = ResultStore(out / "results.jsonl")
    started = time.perf_counter()
    if not args.report_only:
        run = Run(args, cases, out)
        items = list(run.items())
        todo = sum(1 for key, _ in items if not store.has(key))
        print(f"{len(cases)} cases, {len(items)} items, {len(items) - todo} already done; run folder {out}",
              flush=True)
        done = [0]

        def progress(line: str) -> None:
            done[0] += 1
            elapsed = time.perf_counter() - started
            eta = elapsed / done[0] * (todo - done[0])
            print(f"[{done[0]}/{todo}, {elapsed / 60:.1f} min, ~{eta / 60:.0f} min left] {line}", flush=True)

        for key, error in run_pending(store, items, progress, keep_going=True):
            print(f"FAILED {key}: {error}", flush=True)
    ids = {c.id for c in cases}
    records = [r for r in store.values() if r.get("case") in ids]
    music = music_clips(out, 2 if args.quick else MUSIC_CLIPS)
    body = markdown(records, fd_values(records, out, music), settings_line(args, len(cases), records))
    command = ("python benchmarks/rhythm_eval.py" + ("" if args.split == "heldout" else f" --split {args.split}")
               + (f" --draw {args.draw}" if args.draw else ""))
    heading = f"## Rhythm control (`{command}`)"
    if args.quick:
        heading += " — QUICK SMOKE RUN, not results"
    print("\n" + heading + "\n\n" + body)
    if args.quick or args.no_write or args.split != "heldout" or args.n != DEFAULT_COUNT:
        return 0
    if not all(store.has(key) for key in expected_keys(cases, args.baselines)):
        print("\nthe run is not complete (stopped, or items failed): docs/RESULTS.md left alone (re-run to continue)")
        return 0
    section = "rhythm" + (f"-draw-{args.draw}" if args.draw else "")
    update_section(section, f"{heading}\n\n{provenance()}\n\n{body}")
    print(f"\nwrote docs/RESULTS.md (section {section})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
