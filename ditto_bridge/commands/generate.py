"""`ditto-bridge generate JOB.json --out DIR`: run one seconds-based job and write `<name>.wav` + `<name>.json`.

Validation happens before any computation; on any error the command prints it, exits non-zero and writes
nothing. Existing files are never overwritten: a second run of the same job writes `<name>-2.wav` and so on.
It prints each WAV's path and, on the next line (indented), the take's summary: each control met or missed by how
much, and any gain in words. A take that misses a tolerance is still written (exit status 0): the miss is reported.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

from engine.errors import EngineError, JobError

log = logging.getLogger("ditto_bridge.generate")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("generate", help="run one job file (seconds-based JSON) and write WAV + JSON")
    parser.add_argument("job", type=Path, help="job file, see docs/JOB_SCHEMA.md")
    parser.add_argument("--out", type=Path, required=True, help="folder for <name>.wav and <name>.json")
    parser.add_argument("--device", default=None, help="auto (default), cuda, mps or cpu")
    parser.add_argument("--model", default=None, help="override the job's model: builtin, builtin-tiny, stable-audio-open, "
                        "audioldm2-music, musicldm or a local path (docs/MODELS.md)")
    parser.add_argument("--quality", choices=("draft", "final"), default=None,
                        help="override the job's quality: draft (fastest), final (default)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def read_job(path: Path, model: str | None, quality: str | None = None):
    from engine.job import Job

    if not path.is_file():
        raise JobError(f"job file {path}: no such file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise JobError(f"job file {path}: not valid JSON ({error})") from error
    if isinstance(data, dict) and model:
        data = {**data, "model": model}
    if isinstance(data, dict) and quality:
        data = {**data, "quality": quality}
    return Job.from_dict(data, base_dir=path.parent)


def free_stem(folder: Path, stem: str) -> str:
    """`stem`, or `stem-2`, `stem-3`, ... : the first whose .wav and .json do not exist yet."""
    candidate, n = stem, 1
    while (folder / f"{candidate}.wav").exists() or (folder / f"{candidate}.json").exists():
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


def safe_name(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "-_ ." else "_" for ch in name).strip(" .")
    return cleaned[:80] or "take"


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        job = read_job(args.job, args.model, args.quality)
    except JobError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from engine.api import generate
    from engine.audio.io import write_wav

    from ditto_bridge.outbox import take_report

    bar = None if args.quiet or not sys.stderr.isatty() else _progress_bar()
    try:
        result = generate(job, device=args.device, progress=bar)
    except EngineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        if bar is not None:
            bar.close()
    for warning in result.warnings:
        print(f"WARNING: {warning}", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    written = []
    summaries = [take_report(result, take)[1] for take in range(len(result.audio))]
    for take, audio in enumerate(result.audio):
        stem = safe_name(job.name) if len(result.audio) == 1 else f"{safe_name(job.name)}-take{take + 1}"
        stem = free_stem(args.out, stem)
        wav = write_wav(args.out / f"{stem}.wav", audio, result.sample_rate)
        sidecar = {**result.to_sidecar(), "take": take + 1, "seed": result.seeds[take], "wav": wav.name}
        (args.out / f"{stem}.json").write_text(json.dumps(sidecar, indent=2), encoding="utf-8")
        written.append(wav)
    for path, summary in zip(written, summaries):
        print(path)
        if summary:
            print(f"    {summary}")
    return 0


class _progress_bar:
    """tqdm bar fed by the engine's progress events: step, total loss and each control's loss."""

    def __init__(self):
        from tqdm import tqdm

        self._tqdm = tqdm
        self.bar = None

    def __call__(self, event: dict) -> None:
        if event["phase"] != "optimize":
            return
        if self.bar is None:
            self.bar = self._tqdm(total=event["total"], desc="DITTO", unit="step", file=sys.stderr)
        self.bar.n = event["step"]
        self.bar.set_postfix({k: f"{v:.3g}" for k, v in {"loss": event["loss"], **event["losses"]}.items()})

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
