"""Records and tables of the producer-scale evaluation (`benchmarks/producer_eval.py`).

Every finished item (one method on one case, or one reference render) is one JSON line of `results.jsonl` in the
run folder, appended and flushed as soon as it is measured; a re-run reads the file and skips the keys it holds,
so a long run can be stopped and continued. A last line cut short by a killed run is ignored (and redone).
The tables are built from the records alone (plus FD-mel values computed from the run's WAVs).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Callable, Iterable

from engine import job as jobs
from engine.evaluation.producer_metrics import summary

METHOD_NAMES = {"ditto": "DITTO (default job)", "none": "no control", "freedom": "FreeDoM", "doodl": "DOODL",
                "masking": "naive masking", "multidiffusion": "MultiDiffusion"}
HEADLINE = {"intensity": ("mse_db2", "MSE dB²", False), "melody": ("acc_transcriber", "accuracy, basic-pitch %", True),
            "structure": ("mse", "SSM MSE", False), "inpaint": ("overlap_mse", "overlap MSE", False),
            "outpaint": ("overlap_mse", "overlap MSE", False), "loop": ("overlap_mse", "overlap MSE", False)}
"""Per task: the metric in the main table, its label, and whether higher is better."""


class ResultStore:
    """Append-only JSON lines keyed by `record["key"]`."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.records: dict[str, dict[str, Any]] = {}
        if self.path.is_file():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short when a run was stopped: that item runs again
                if isinstance(record, dict) and "key" in record:
                    self.records[record["key"]] = record

    def has(self, key: str) -> bool:
        return key in self.records

    def append(self, record: dict[str, Any]) -> None:
        if "key" not in record:
            raise ValueError("a record needs a 'key'")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record, default=_json_default, allow_nan=True)
        with open(self.path, "a+b") as handle:
            if handle.tell() > 0:
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":  # a line cut short: end it, so it stays one unreadable line
                    handle.write(b"\n")
            handle.write((line + "\n").encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        self.records[record["key"]] = record

    def values(self) -> list[dict[str, Any]]:
        return list(self.records.values())


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)


def run_pending(store: ResultStore, items: Iterable[tuple[str, Callable[[], dict[str, Any]]]],
                progress: Callable[[str], None] | None = None, *,
                keep_going: bool = False) -> list[tuple[str, str]]:
    """Run every `(key, make_record)` whose key the store does not hold yet and append its record (the key is set
    on it). With `keep_going`, an item that raises is left out of the store (a re-run tries it again) and the run
    goes on; returns the (key, error) of every such item."""
    failed = []
    for key, make in items:
        if store.has(key):
            continue
        try:
            record = dict(make())
        except Exception as error:  # one failing item must not end a run of hours; it is reported and retried
            if not keep_going:
                raise
            failed.append((key, f"{type(error).__name__}: {error}"))
            if progress is not None:
                progress(f"{key:42s} FAILED: {type(error).__name__}: {error}")
            continue
        record["key"] = key
        store.append(record)
        if progress is not None:
            progress(describe(record))
    return failed


def describe(record: dict[str, Any]) -> str:
    """One progress line of a record."""
    values = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                      for k, v in record.get("metrics", {}).items())
    seconds = record.get("seconds_to_wav")
    tail = f"  ({seconds:.1f} s to WAV)" if isinstance(seconds, (int, float)) else ""
    return f"{record['key']:42s} {values}{tail}"


# ----------------------------------------------------------------------------------------------- tables


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


def _fmt(value: float, digits: int, scale: float = 1.0) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value * scale:.{digits}f}"


def _share(flags: list[bool]) -> str:
    return "—" if not flags else f"{100.0 * sum(flags) / len(flags):.0f} %"


def cells(records: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Records of methods (not reference renders) grouped by (task, method), in first-seen order."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for record in records:
        if record.get("method") in METHOD_NAMES and record.get("task") in HEADLINE:
            out.setdefault((record["task"], record["method"]), []).append(record)
    return out


def headline_metric(task: str, records: list[dict[str, Any]]) -> tuple[str, str, bool]:
    key, label, higher = HEADLINE[task]
    if task == "melody" and not any(key in r["metrics"] for r in records):
        return "acc_chroma", "accuracy, chroma %", True
    return key, label, higher


def control_table(records: list[dict[str, Any]]) -> str:
    """Per task and method: N, median, mean and the bad tail (p90 of an error, p10 of an accuracy) of the task's
    metric on the WAV, share within tolerance, share of silent takes (intensity), seconds to WAV. A take whose
    sample went non-finite (a baseline's guidance can blow it up) has no WAV: it is counted apart in N ("+ k
    diverged"), left out of the metric's statistics and counted as not within tolerance."""
    rows = []
    for (task, method), items in cells(records).items():
        key, label, higher = headline_metric(task, items)
        scale, digits = (100.0, 1) if higher else (1.0, 4 if task == "structure" else 3 if task != "intensity" else 2)
        stats = summary([r["metrics"].get(key) for r in items])
        tail = stats["p10"] if higher else stats["p90"]
        silent = [bool(r["metrics"]["silent"]) for r in items if "silent" in r["metrics"]]
        seconds = summary([r.get("seconds_to_wav") for r in items])
        diverged = sum(bool(r.get("diverged")) for r in items)
        count = f"{stats['n']} + {diverged} diverged" if diverged else stats["n"]
        rows.append([task, METHOD_NAMES[method], count, label, _fmt(stats["median"], digits, scale),
                     _fmt(stats["mean"], digits, scale), _fmt(tail, digits, scale),
                     _share([bool(r.get("within")) for r in items]), _share(silent),
                     _fmt(seconds["median"], 1), _fmt(seconds["p90"], 1)])
    return table(["task", "method", "N", "metric (on the WAV)", "median", "mean", "tail (p90 error / p10 acc.)",
                  "within tolerance", "silent takes", "s to WAV median", "s to WAV p90"], rows)


def melody_table(records: list[dict[str, Any]]) -> str:
    """Melody: both accuracies per method (transcriber and the project's chroma), median and mean."""
    rows = []
    for (task, method), items in cells(records).items():
        if task != "melody":
            continue
        row = [METHOD_NAMES[method], len(items)]
        for key in ("acc_transcriber", "acc_chroma"):
            stats = summary([r["metrics"].get(key) for r in items])
            row += [_fmt(stats["median"], 1, 100.0), _fmt(stats["mean"], 1, 100.0)]
        rows.append(row)
    return table(["method", "N", "basic-pitch median %", "basic-pitch mean %", "chroma median %", "chroma mean %"],
                 rows)


def seam_table(records: list[dict[str, Any]]) -> str:
    """In/out-painting and loops: the seam score on the WAV per method (the largest spectral change at each join
    of reference and generated audio over the clip's typical change; 1 = a join sounds like any other moment),
    median and p90, and the share of takes whose joins are within the engine's seam tolerance."""
    from engine.controls.seam import SEAM_TOLERANCE

    rows = []
    for (task, method), items in cells(records).items():
        values = [r["metrics"].get("seam") for r in items]
        if task not in ("inpaint", "outpaint", "loop") or not any(v is not None for v in values):
            continue
        stats = summary(values)
        rows.append([task, METHOD_NAMES[method], stats["n"], _fmt(stats["median"], 2), _fmt(stats["p90"], 2),
                     _share([v is not None and v <= SEAM_TOLERANCE for v in values])])
    return table(["task", "method", "N", "seam median", "seam p90", f"seams ≤ {SEAM_TOLERANCE:g}"], rows)


def intensity_table(records: list[dict[str, Any]]) -> str:
    """DITTO on intensity: the MSE after gain against the original target beside the music-only MSE (the audio
    before any level gain against the target clipped into the model's loudness range), overall and for targets
    that lie inside the range (where the gain must not be what meets the goal)."""
    items = cells(records).get(("intensity", "ditto"), [])
    rows = []
    for name, subset in (("all", items), ("target inside the range", [r for r in items if r["metrics"].get(
            "target_inside_range")])):
        after = summary([r["metrics"].get("mse_db2") for r in subset])
        music = summary([r["metrics"].get("music_mse_db2") for r in subset])
        rows.append([name, after["n"], _fmt(after["median"], 2), _fmt(after["p90"], 2), _fmt(music["median"], 2),
                     _fmt(music["p90"], 2), _share([bool(r.get("within")) for r in subset]),
                     _share([bool(r.get("converged")) for r in subset])])
    return table(["cases", "N", "MSE after gain median", "p90", "music-only MSE median", "p90", "within tolerance",
                  "engine says converged"], rows)


def shape_table(records: list[dict[str, Any]]) -> str:
    """DITTO on intensity by curve shape: median MSE after gain, music-only, silent takes."""
    items = cells(records).get(("intensity", "ditto"), [])
    shapes: dict[str, list[dict[str, Any]]] = {}
    for r in items:
        shapes.setdefault(r.get("meta", {}).get("shape", "?"), []).append(r)
    rows = [[shape, len(group), _fmt(summary([r["metrics"].get("mse_db2") for r in group])["median"], 2),
             _fmt(summary([r["metrics"].get("music_mse_db2") for r in group])["median"], 2),
             _share([bool(r["metrics"].get("silent")) for r in group]),
             _share([bool(r.get("within")) for r in group])] for shape, group in shapes.items()]
    return table(["shape", "N", "MSE after gain median", "music-only median", "silent takes", "within tolerance"],
                 rows)


def cost_table(records: list[dict[str, Any]]) -> str:
    """DITTO's cost per task: seconds to WAV (all clips, and clips of 5-7 s), optimizer steps run."""
    rows = []
    for (task, method), items in cells(records).items():
        if method != "ditto":
            continue
        six = [r for r in items if 5.0 <= r.get("duration", 0.0) <= 7.0]
        all_s, six_s = summary([r.get("seconds_to_wav") for r in items]), summary([r.get("seconds_to_wav")
                                                                                   for r in six])
        steps = summary([r.get("steps_run") for r in items])
        per = summary([r["seconds_to_wav"] / r["duration"] for r in items if r.get("duration")])
        rows.append([task, len(items), _fmt(all_s["median"], 1), _fmt(all_s["p90"], 1), six_s["n"],
                     _fmt(six_s["median"], 1), _fmt(six_s["p90"], 1), _fmt(per["median"], 2),
                     _fmt(steps["median"], 0), _fmt(steps["p90"], 0)])
    return table(["task", "N", "s to WAV median", "p90", "N of 5-7-s clips", "their median", "their p90",
                  "s per s of audio (median)", "Adam steps median", "p90"], rows)


def fd_table(fd: dict[tuple[str, str], dict[str, float]]) -> str:
    """FD-mel per task and method: against the uncontrolled takes of the same cases, against held-out music, and
    the ratio of the method's distance to held-out music over the uncontrolled takes' distance (1 = as close to
    real music as the model without control), the same with every clip level-normalized, the same against the
    uncontrolled takes given the controlled takes' loudness contours (dynamics-matched: what is left is the music,
    not the level asked of it), and the median level shift of a take over the uncontrolled take of its case
    (dB)."""
    rows = []
    for (task, method), value in fd.items():
        rows.append([task, METHOD_NAMES.get(method, method), value.get("n", "—"),
                     _fmt(value.get("vs_uncontrolled"), 1), _fmt(value.get("vs_music"), 1),
                     _fmt(value.get("ratio"), 2), _fmt(value.get("ratio_normalized"), 2),
                     _fmt(value.get("ratio_dynamics_matched"), 2), _fmt(value.get("level_shift_db"), 1)])
    return table(["task", "method", "N", "FD-mel vs uncontrolled", "FD-mel vs held-out music",
                  "ratio to uncontrolled's (vs music)", "same, level-normalized", "same, dynamics-matched",
                  "level vs uncontrolled, dB"], rows)


def markdown(records: list[dict[str, Any]], fd: dict[tuple[str, str], dict[str, float]], settings: str) -> str:
    """The whole report: settings, then the tables."""
    parts = [settings, "",
             "**Control on the WAV.** Every take is written as a 24-bit WAV with the project's writer and read back; "
             "intensity: smoothed frame RMS (2048/512 Hann, 0.25 s) in dB against the job's curve, MSE in dB²; a "
             "take silent (< -90 dB) for ≥ 0.25 s where the target is above -45 dB is counted as failing; melody: "
             "frames whose pitch class matches the target, from basic-pitch's transcription; structure: MFCC "
             "self-similarity MSE; in/out-paint, loop: log-mel MSE against the reference in the overlap (nats²). "
             "Within tolerance: the job's own default tolerance judged on the WAV (intensity: RMS error ≤ "
             f"{jobs.IntensityControl.tolerance:g} dB and no silent stretch; melody: accuracy ≥ 1 - "
             f"{jobs.MelodyControl.tolerance:g}; structure ≤ {jobs.StructureControl.tolerance:g}; overlap ≤ "
             f"{jobs.InpaintControl.tolerance:g}).", "",
             control_table(records)]
    if any(t == "intensity" and m == "ditto" for t, m in cells(records)):
        parts += ["", "**Intensity: after gain vs music-only.** After gain: the written take against the target as "
                  "drawn. Music-only: the audio before any level gain against the target clipped into the loudness "
                  "range the model reaches (equal to the take and the target when the engine applies no gain).", "",
                  intensity_table(records), "", shape_table(records)]
    if any(t in ("inpaint", "outpaint", "loop") for t, _ in cells(records)):
        parts += ["", "**Joins (in/out-painting, loops).** Seam score on the WAV: the reference and the take "
                  "assembled as a producer would place them, the largest spectral change within 2 frames of each "
                  "join over the median change elsewhere in the clip (1 = the join sounds like any other moment).",
                  "", seam_table(records)]
    if any(t == "melody" for t, _ in cells(records)):
        parts += ["", "**Melody: transcriber and chroma.**", "", melody_table(records)]
    parts += ["", "**Cost of the default job.**", "", cost_table(records)]
    if fd:
        parts += ["", "**Quality: FD-mel** (Fréchet distance on the project's log-mel/chroma/onset window "
                  "statistics; not FAD).", "", fd_table(fd)]
    return "\n".join(parts)
