"""`ModelActor`: one Ray actor that keeps models loaded on its node and runs jobs sent to it as bytes.

No file system is shared with the daemon: a job arrives as its JSON form, the audio its controls reference and its
warm-start x_T as bytes. `run` writes them into a private temporary folder, points the job at them, runs
`engine.api.generate` and returns the `GenerationResult` (numpy audio, the x_T tensor, dataclasses: it pickles),
then deletes the folder. Nothing is written to the daemon's outbox from here: the daemon writes the takes itself.

The actor is threaded (``max_concurrency=2``): while one thread runs a job, the other answers `cancel` (a flag the
run's ``should_cancel`` reads between optimization steps), `events` (the run's progress so far, which the pool
fetches and forwards as ``/ditto/progress``) and `info`. The pool sends one job at a time to an actor.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

import ray

KEPT_RUNS = 4
"""Progress lists kept per actor (the latest runs'); older ones are dropped when a new run starts."""


def _scalars(event: dict[str, Any]) -> dict[str, Any]:
    """The parts of a progress event that travel: numbers, words and flat dicts of them (never a tensor)."""
    plain = (int, float, str, bool, type(None))
    out: dict[str, Any] = {}
    for key, value in event.items():
        if isinstance(value, plain):
            out[key] = value
        elif isinstance(value, dict):
            out[key] = {k: v for k, v in value.items() if isinstance(v, plain)}
    return out


def rewrite_files(job: dict[str, Any], references: dict[str, bytes], warm_start: bytes | None,
                  folder: Path) -> dict[str, Any]:
    """A copy of `job` (its JSON form) whose reference paths and warm start point at files written into `folder`.

    `references` maps a path as the job names it to the file's bytes. A reference the job names without bytes, or
    a ``warm_start`` without `warm_start` bytes, is an error naming the field: the run would otherwise read a
    path of the daemon's machine on this node.
    """
    from engine.errors import JobError

    data = dict(job)
    controls = []
    for i, control in enumerate(data.get("controls") or ()):
        control = dict(control)
        reference = control.get("reference")
        if reference:
            if reference not in references:
                raise JobError(f"controls[{i}].reference: the daemon sent no audio for {str(reference)[:200]!r}")
            suffix = Path(str(reference)).suffix.lower()[:8]
            path = folder / f"reference-{i}{suffix if suffix.isascii() else ''}"
            path.write_bytes(references[reference])
            control["reference"] = str(path)
        controls.append(control)
    if "controls" in data:
        data["controls"] = controls
    if data.get("warm_start"):
        if warm_start is None:
            raise JobError("warm_start: the daemon sent no x_T for this job's warm start")
        path = folder / "warm_start.pt"
        path.write_bytes(warm_start)
        data["warm_start"] = str(path)
    return data


@ray.remote(max_concurrency=2)
class ModelActor:
    """Models stay loaded between jobs, keyed by (model name, device); see the module docstring."""

    def __init__(self, device: str = "auto") -> None:
        import torch

        from engine.device import physical_cpu_cores, pick_device

        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1.0)
        torch.set_num_threads(max(1, min(int(cpus), physical_cpu_cores())))  # the CPUs Ray gave it, no more
        self.device = pick_device(device)
        self._lock = threading.Lock()
        self._models: dict[tuple[str, str], Any] = {}
        self._cancel: set[str] = set()
        self._events: dict[str, list[dict[str, Any]]] = {}
        self._running: set[str] = set()
        self._jobs_run = 0

    def load(self, model: str) -> str:
        """Load `model` on this actor's device (once); its name as loaded."""
        return self._model(model).info.name

    def _model(self, name: str) -> Any:
        from engine.api import load_model

        key = (name, str(self.device))
        if key not in self._models:
            loaded = load_model(name, self.device)  # the engine's own cache makes a second load instant
            with self._lock:
                self._models[key] = loaded
        return self._models[key]

    def latent_shape(self, model: str, duration: float) -> tuple[int, ...]:
        """The shape of one take's x_T for `duration` seconds of `model` (what a lineage's warm start must match)."""
        return tuple(int(n) for n in self._model(model).latent_shape(duration))

    def run(self, job_id: str, job: dict[str, Any], references: dict[str, bytes], warm_start: bytes | None) -> Any:
        """Run `job` (its JSON form) with its files sent as bytes; the `GenerationResult`. A `cancel` for `job_id`
        (even one that arrived before this call) stops it at its next optimization step with `CancelledError`."""
        from engine.api import generate
        from engine.job import Job

        with self._lock:
            self._events[job_id] = []
            while len(self._events) > KEPT_RUNS:
                self._events.pop(next(iter(self._events)))
            self._running.add(job_id)
        folder = Path(tempfile.mkdtemp(prefix="ditto-bridge-job-"))
        try:
            parsed = Job.from_dict(rewrite_files(job, references, warm_start, folder))
            model = self._model(parsed.model)

            def progress(event: dict[str, Any]) -> None:
                with self._lock:
                    self._events.setdefault(job_id, []).append(_scalars(event))

            return generate(parsed, model=model, progress=progress, should_cancel=lambda: job_id in self._cancel)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            with self._lock:
                self._running.discard(job_id)
                self._cancel.discard(job_id)
                self._jobs_run += 1

    def cancel(self, job_id: str) -> bool:
        """Flag `job_id` to stop at its next optimization step; True when it runs here now."""
        with self._lock:
            self._cancel.add(job_id)
            return job_id in self._running

    def events(self, job_id: str, since: int = 0) -> list[dict[str, Any]]:
        """The progress events of `job_id`'s run from index `since` on."""
        with self._lock:
            return list(self._events.get(job_id, ())[since:])

    def info(self) -> dict[str, Any]:
        """Where this actor runs and what it holds: process, node, device, models loaded, jobs run, running."""
        import torch

        context = ray.get_runtime_context()
        gpu = torch.cuda.get_device_name(self.device) if self.device.type == "cuda" else None
        with self._lock:
            return {"pid": os.getpid(), "node_id": context.get_node_id(), "node_ip": ray.util.get_node_ip_address(),
                    "device": str(self.device), "gpu": gpu, "torch_threads": torch.get_num_threads(),
                    "models": sorted(name for name, _ in self._models), "jobs_run": self._jobs_run,
                    "running": sorted(self._running)}
