"""The worker: one thread per compute device that runs queued jobs through the engine, one at a time; with a
cluster configured (`ditto_bridge.cluster`), one thread per actor, each handing its job to the cluster.

For each job it sends ``/ditto/progress`` per optimization step, writes every take to the outbox, marks the job done
(with its takes) and sends one ``/ditto/done`` per take, with the take's summary in words (each control met or
missed by how much, and any gain; '' for a job without controls). A job whose takes miss a tolerance still succeeds:
the miss is reported, per control, in the summary and in the take's sidecar (``ditto_bridge.summary``,
``ditto_bridge.controls_report``). Takes are written exactly once: a take is published before its job is marked
done, so a job killed in between is found again at the next start; the takes its sidecars name (job id and take
number) are looked up first, a complete set marks the job done without running it again (`published_outputs`), and a
run that does happen writes only the takes not yet published. Before a job runs, the reference windows translation
planned are rendered from the set's files (the only audio written for a job before it runs), and every file it names
(references, ``warm_start``) is checked again inside the allowed folders, as a regular file. A job of a lineage
starts from the lineage's latest x_T* when that fits the job (`ditto_bridge.lineage`; decided when the job starts,
so a tweak queued behind the take it tweaks starts from that take); once it has succeeded, its own x_T* becomes the
lineage's latest. A failing job is logged with its id, marked failed and answered with ``/ditto/error``; it never
stops the worker.

The worker alone decides cancellation (`cancel`): a waiting job at once; a running one is flagged, and the flag
(like shutdown) is checked between optimization steps: it ends ``cancelled`` (its x_T* is not kept) and all who
asked hear ``/ditto/cancelled``; on shutdown it goes back to the queue and runs again at the next start.

With ``cluster`` set, the queue, the outbox, the lineages and every reply stay here; only the run moves: the
job's reference audio and warm-start x_T are read here as bytes (no shared file system), `ClusterPool.run` returns
the `GenerationResult`, and the takes are written through the same outbox code as a local run's. An actor (or
node) that dies mid-job raises `ClusterRetryableError`: the job runs again at once on another actor while its
attempts last (``max_attempts`` counts these runs as it counts the runs a killed daemon interrupted); nothing of
the lost run was written. Jobs of one lineage never run at the same time: a thread that claims one waits for the
lineage's running job first, so a tweak still starts from the take it tweaks.

The engine (and torch) are imported in the worker's thread, so the OSC server answers at once while the model
loads (or the cluster's actors start).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable

from ditto_bridge import __version__
from ditto_bridge.cluster.errors import ClusterError, ClusterRetryableError
from ditto_bridge.config import Config
from ditto_bridge.errors import BridgeError, RequestError, UnknownJobError
from ditto_bridge.job_queue import JobQueue, JobRecord
from ditto_bridge.lineage import LineageStore, LineageStoreError, WarmStart, store_folder
from ditto_bridge.outbox import published_summary, published_take, take_report, take_stem, write_take
from ditto_bridge.protocol import summary_argument
from ditto_bridge.server import Address, Send
from ditto_bridge.translate.live_job import OutputSpec
from ditto_bridge.translate.references import ReferenceWindow, checked_file, is_live_project, render_window
from engine.safe_files import folder, owner_tag, read_regular

log = logging.getLogger("ditto_bridge.worker")

OPTIMIZE_SHARE = 0.9
"""Fraction of the progress bar the optimization fills; rendering and writing fill the rest."""
MAX_REFERENCE_BYTES = 2_000_000_000
MAX_WARM_START_BYTES = 256_000_000


class Worker:
    """Runs jobs from `queue` on one compute device; `send(address, args, to)` sends replies."""

    def __init__(self, queue: JobQueue, config: Config, send: Send) -> None:
        self.queue = queue
        self.config = config
        self.send = send
        self.device_name = config.device
        self.ready = threading.Event()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._cancel: set[str] = set()
        self._cancel_requesters: dict[str, Address] = {}
        """Who asked to cancel a running job, when not the job's own sender (they hear /ditto/cancelled too)."""
        self._lock = threading.Lock()
        self._lineage_free = threading.Condition(self._lock)
        self._running: dict[str, bool] = {}
        """The running jobs, each with whether its outcome is decided (too late to cancel it)."""
        self._lineages_running: set[str] = set()
        self.threads = config.cluster_actors if config.cluster else 1
        """Jobs run at once: one per cluster actor, else one."""
        self.pool: Any = None
        """The `ClusterPool` with ``cluster`` set, once started."""
        self._device: Any = None
        self._startup_error: str | None = None
        self.lineages = LineageStore(store_folder(Path(config.data_dir)))
        self.owner = owner_tag(Path(config.data_dir))
        self.allowed_roots = (*config.audio_dirs, Path(config.inbox), config.reference_dir)
        """Folders a job's files may be read from (a Live set's project folder was checked when it arrived)."""
        self._thread = threading.Thread(target=self._run, name="worker", daemon=True)

    # ------------------------------------------------------------------------------------------------ control
    def start(self) -> "Worker":
        """Settle what a stopped daemon left (`recover`), then run the queue in the worker's thread."""
        self.recover()
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def cancel(self, job_id: str, reply_to: Address) -> bool:
        """``/ditto/cancel``: True when the job was waiting and is cancelled now; False when it runs (or is being
        claimed right now) and stops at its next optimization step, answering ``/ditto/cancelled`` then.

        `UnknownJobError` for an id never seen; `RequestError` (with ``job_id``) when the job has ended or its
        outcome is already decided.
        """
        record = self.queue.get(job_id)
        if record is None:
            raise UnknownJobError(f"no job {job_id[:100]!r} is known to this daemon")
        if record.state == "queued" and self.queue.cancel_queued(job_id):
            self.remove_references(record)  # rendered by a run that shutdown put back, if any
            log.info("job %s cancelled before it started", job_id, extra={"job_id": job_id})
            return True
        if record.state in ("queued", "running"):
            with self._lock:
                if not self._running.get(job_id, False):
                    self._cancel.add(job_id)
                    latest = self.queue.get(job_id)
                    if latest is not None and latest.state == "running":  # answered once it has stopped
                        if record.reply_to != reply_to:
                            self._cancel_requesters[job_id] = reply_to
                        return False
                    self._cancel.discard(job_id)
        latest = self.queue.get(job_id)
        state = latest.state if latest else record.state
        error = RequestError(f"job {job_id} is already {state}; nothing to cancel" if state not in ("queued", "running")
                             else f"job {job_id} is finishing; too late to cancel")
        error.job_id = job_id  # type: ignore[attr-defined]
        raise error

    def stop(self, timeout: float = 60.0) -> bool:
        """Stop after the current optimization step (running jobs are persisted); False if one did not end."""
        self._stop.set()
        self._wake.set()
        with self._lock:
            self._lineage_free.notify_all()
        if not self.ready.is_set():
            return True  # still importing the engine or starting the cluster: no job runs, nothing to persist
        self._thread.join(timeout=timeout)
        return not self._thread.is_alive()

    # --------------------------------------------------------------------------------------------------- loop
    def _run(self) -> None:
        self._prepare()
        self.ready.set()
        others = [threading.Thread(target=self._loop, name=f"worker-{i}", daemon=True)
                  for i in range(1, self.threads)]
        if not self._stop.is_set():
            for thread in others:
                thread.start()
        try:
            self._loop()
            for thread in others:
                if thread.ident is not None:  # started
                    thread.join()
        finally:
            if self.pool is not None:
                self.pool.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            record = self.queue.claim_next()
            if record is None:
                self._wake.wait(timeout=0.5)
                self._wake.clear()
                continue
            with self._lock:
                self._running[record.id] = False
            lineage = record.output.get("lineage") if isinstance(record.output, dict) else None
            held = False
            try:
                if lineage is not None:
                    held = self._hold_lineage(lineage)
                    if not held:
                        self.queue.requeue(record.id)  # stopping while it waited: it runs first at the next start
                        continue
                self._run_job(record)
            finally:
                with self._lock:
                    self._running.pop(record.id, None)
                    self._cancel.discard(record.id)
                    self._cancel_requesters.pop(record.id, None)
                    if held:
                        self._lineages_running.discard(lineage)
                        self._lineage_free.notify_all()

    def _hold_lineage(self, lineage: str) -> bool:
        """Wait until no other job of `lineage` runs, then mark it running; False when stopping first."""
        with self._lock:
            while lineage in self._lineages_running:
                if self._stop.is_set():
                    return False
                self._lineage_free.wait(timeout=0.5)
            self._lineages_running.add(lineage)
            return True

    def _prepare(self) -> None:
        """Import the engine, pick the compute device, load the default model, or start the cluster's actors
        with it loaded (errors are kept for each job)."""
        if self.config.cluster:
            self._prepare_cluster()
            return
        try:
            import torch

            from engine.api import load_model
            from engine.device import pick_device, torch_threads
            from engine.errors import EngineError

            torch.set_num_threads(torch_threads(self.config.torch_threads))
            self._device = pick_device(self.config.device)
            self.device_name = str(self._device)
            started = time.perf_counter()
            model = load_model(self.config.model, self._device)
            log.info("model %s loaded on %s in %.1f s (%s)", model.info.name, self.device_name,
                     time.perf_counter() - started, model.info.description)
        except EngineError as error:
            self._startup_error = str(error)
            log.error("the engine is not ready: %s; jobs will fail until this is fixed", error)

    def _prepare_cluster(self) -> None:
        """Connect to the cluster and start one actor per worker thread, each with the default model loaded."""
        try:
            from ditto_bridge.cluster.pool import ClusterPool

            started = time.perf_counter()
            self.pool = ClusterPool(str(self.config.cluster), self.config.cluster_actors, model=self.config.model,
                                    device=self.config.device)
            self._device = "cluster"
            self.device_name = f"ray:{'cuda' if self.pool.use_gpu else 'cpu'}x{self.config.cluster_actors}"
            log.info("cluster %s ready in %.1f s: %d actor(s) with %s loaded, jobs run there", self.pool.address,
                     time.perf_counter() - started, self.config.cluster_actors, self.config.model)
        except ClusterError as error:
            self._startup_error = str(error)
            log.error("the cluster is not ready: %s; jobs will fail until this is fixed", error)

    def _should_cancel(self, job_id: str) -> Callable[[], bool]:
        return lambda: self._stop.is_set() or job_id in self._cancel

    def _run_job(self, record: JobRecord) -> None:
        from engine.api import generate, load_model
        from engine.errors import CancelledError, EngineError
        from engine.job import Job

        started = time.perf_counter()
        log.info("job %s started (attempt %d, %s)", record.id, record.attempts, record.output.get("task"),
                 extra={"job_id": record.id})
        try:
            if self._device is None:
                raise BridgeError(f"the engine could not start: {self._startup_error}")
            spec = OutputSpec.from_dict(record.output)
            for plan in spec.renders:  # the reference audio the job reads, cut from the set's files now
                render_window(ReferenceWindow.from_dict(plan["window"]), Path(plan["path"]), self._clip_roots(plan))
            job = Job.from_dict(record.job)
            self._check_files(job, record)
            model = load_model(job.model, self._device) if self.pool is None else None
            warm = self._warm_start(record, spec, job, model)
            if warm.path is not None:
                job = dataclasses.replace(job, warm_start=warm.path)
            if job.optimizer.memory_budget_mib is None and self.config.memory_budget_mib is not None:
                job = dataclasses.replace(job, optimizer=dataclasses.replace(
                    job.optimizer, memory_budget_mib=float(self.config.memory_budget_mib)))

            def progress(event: dict[str, Any]) -> None:
                total = max(int(event.get("total") or 0), 1)
                step = int(event.get("step") or 0)
                if event.get("phase") == "check":
                    return  # a render check between two steps: the step's own message already went out
                if event.get("phase") in ("level", "optimize"):  # a level render comes before Adam's step 0
                    fraction = OPTIMIZE_SHARE * min(step, total) / total
                else:
                    fraction = OPTIMIZE_SHARE + (1 - OPTIMIZE_SHARE) / 2
                self._notify(record, "/ditto/progress", (record.id, fraction, step, float(event.get("loss", 0.0))))

            if self.pool is None:
                result = generate(job, model=model, progress=progress, should_cancel=self._should_cancel(record.id))
            else:
                result = self._run_remote(record, job, warm, progress)
            takes = self._write(record, spec, result, warm)
            if spec.lineage is not None:
                self._remember(record, spec.lineage, job.model, result.x_T)
        except ClusterRetryableError as error:
            self._retry(record, str(error))
            return
        except CancelledError:
            self._decided(record.id)
            if self._stop.is_set() and record.id not in self._cancel:
                self.queue.requeue(record.id)
                log.info("job %s put back in the queue (shutdown)", record.id, extra={"job_id": record.id})
            else:
                self.queue.mark_cancelled(record.id)
                self.remove_references(record)
                log.info("job %s cancelled", record.id, extra={"job_id": record.id})
                for to in (record.reply_to, self._cancel_requesters.pop(record.id, None)):
                    self.send("/ditto/cancelled", (record.id,), to)
            return
        except (EngineError, BridgeError) as error:
            self._decided(record.id)
            self._failed(record, str(error))
            return
        except Exception as error:  # noqa: BLE001 - one bad job must never stop the worker
            self._decided(record.id)
            log.exception("job %s: internal error", record.id, extra={"job_id": record.id})
            self._failed(record, f"internal error: {type(error).__name__}: {error}")
            return
        self._decided(record.id)
        self.queue.finish(record.id, [str(path) for path, _ in takes])
        self.remove_references(record)
        log.info("job %s done in %.1f s: %s", record.id, time.perf_counter() - started,
                 "; ".join(f"{path.name}{': ' + summary if summary else ''}" for path, summary in takes),
                 extra={"job_id": record.id})
        for path, summary in takes:
            self._notify(record, "/ditto/done", (record.id, str(path), summary_argument(summary)))

    def _run_remote(self, record: JobRecord, job: Any, warm: WarmStart,
                    progress: Callable[[dict[str, Any]], None]) -> Any:
        """Run `job` on the cluster with its files as bytes (the job's own checked again as they are read, a
        lineage's x_T* read from the daemon's own folder); the result, with the job as it is here (paths of this
        machine, for the sidecar)."""
        roots = self.allowed_roots
        references: dict[str, bytes] = {}
        for i, control in enumerate(job.controls):
            reference = getattr(control, "reference", None)
            if reference and reference not in references:
                where = f"controls[{i}].reference"
                path = checked_file(reference, where, roots, max_bytes=MAX_REFERENCE_BYTES)
                references[reference] = read_regular(path, max_bytes=MAX_REFERENCE_BYTES, where=where)
        warm_start = None
        if warm.path is not None:
            warm_start = read_regular(Path(warm.path), max_bytes=MAX_WARM_START_BYTES, where="warm_start")
        elif job.warm_start:
            path = checked_file(job.warm_start, "warm_start", roots, max_bytes=MAX_WARM_START_BYTES)
            warm_start = read_regular(path, max_bytes=MAX_WARM_START_BYTES, where="warm_start")
        result = self.pool.run(record.id, job.to_dict(), references=references, warm_start=warm_start,
                               progress=progress, should_cancel=self._should_cancel(record.id))
        return dataclasses.replace(result, job=job)

    def _retry(self, record: JobRecord, reason: str) -> None:
        """The cluster lost the actor running `record`: run it again now while its attempts last, else fail it.

        The job stays ``running`` meanwhile (a daemon killed now finds it so and runs it again). Each run here
        counts against ``max_attempts`` like a run a killed daemon interrupted, and the sidecar's ``attempts``
        says how many runs the take needed."""
        if self._stop.is_set():
            self._decided(record.id)
            self.queue.requeue(record.id)
            log.info("job %s put back in the queue (shutdown; %s)", record.id, reason, extra={"job_id": record.id})
            return
        if record.attempts >= self.config.max_attempts:
            self._decided(record.id)
            self._failed(record, f"{reason}; not run again: it had {record.attempts} run(s), the most max_attempts "
                                 f"allows ({self.config.max_attempts})")
            return
        log.warning("job %s: %s; it runs again on another actor (attempt %d of %d)", record.id, reason,
                    record.attempts + 1, self.config.max_attempts, extra={"job_id": record.id})
        self._run_job(dataclasses.replace(record, attempts=record.attempts + 1))

    def _clip_roots(self, plan: dict[str, Any]) -> tuple[Path, ...]:
        """The folders a planned window's clip may be read from now: the daemon's own, and those of the plan's that
        are still a saved Live project folder (the request's ``song.project_folder``)."""
        projects = [Path(root) for root in plan.get("roots", ()) if is_live_project(Path(root))]
        return (*self.config.audio_dirs, Path(self.config.inbox), *projects)

    def _check_files(self, job: Any, record: JobRecord) -> None:
        """Every file the job names, checked again now (it may have changed since the job arrived): inside the
        allowed folders (clip audio, from a Live project folder too, was just rendered into the references
        folder), a regular file, not a link, FIFO or device."""
        roots = self.allowed_roots
        for i, control in enumerate(job.controls):
            reference = getattr(control, "reference", None)
            if reference:
                checked_file(reference, f"controls[{i}].reference", roots, max_bytes=MAX_REFERENCE_BYTES)
        if job.warm_start:
            checked_file(job.warm_start, "warm_start", roots, max_bytes=MAX_WARM_START_BYTES)

    def recover(self) -> None:
        """Settle the jobs a stopped daemon left ``running``: one whose every take was published (killed between
        publishing and being marked done) is marked done with those takes, never run again; the others go back
        to the queue, or fail once they had ``max_attempts`` runs. Unfinished lineage files are removed. The
        jobs' senders hear ``/ditto/done`` or ``/ditto/error``."""
        finished = []
        for record in self.queue.all():
            paths = self.published_outputs(record) if record.state == "running" else None
            if paths is not None:
                self.queue.finish(record.id, [str(p) for p in paths])
                self.remove_references(record)
                log.warning("job %s was interrupted after its takes were published; marked done without running "
                            "again: %s", record.id, ", ".join(p.name for p in paths), extra={"job_id": record.id})
                finished.append((record, paths))
        requeued, failed = self.queue.recover(self.config.max_attempts)
        for record in requeued:
            log.warning("job %s was interrupted; it runs again (attempt %d of %d)", record.id,
                        record.attempts + 1, self.config.max_attempts, extra={"job_id": record.id})
        for path in self.lineages.remove_leftovers():
            log.info("removed an unfinished lineage file a stopped daemon left: %s", path.name)
        for record, paths in finished:
            for path in paths:  # with the summary each take's sidecar holds ('' when it has none)
                self._notify(record, "/ditto/done", (record.id, str(path), summary_argument(published_summary(path))))
        for record in failed:
            log.error("job %s failed: %s", record.id, record.error, extra={"job_id": record.id})
            self._notify(record, "/ditto/error", (record.id, record.error))

    def published_outputs(self, record: JobRecord) -> list[Path] | None:
        """Every take of `record` already in the outbox (in take order), or None when any is missing."""
        try:
            spec = OutputSpec.from_dict(record.output)
            seed, variations = int(record.job.get("seed", 0)), int(record.job.get("variations", 1))
        except (TypeError, ValueError):
            return None
        paths = []
        for take in range(variations):
            path = published_take(Path(self.config.outbox), take_stem(spec.name, spec.task, seed + take, take + 1),
                                  record.id, take + 1)
            if path is None:
                return None
            paths.append(path)
        return paths

    def _decided(self, job_id: str) -> None:
        with self._lock:
            self._running[job_id] = True

    def _warm_start(self, record: JobRecord, spec: OutputSpec, job: Any, model: Any) -> WarmStart:
        """Where the job starts: its own ``warm_start``, its lineage's latest x_T* when that fits, or seeded noise."""
        if spec.lineage is None:
            return WarmStart()
        if job.warm_start:
            return WarmStart(note=f"lineage {spec.lineage!r}: the job names its own warm_start, which is kept")
        shape = tuple(model.latent_shape(job.duration) if model is not None
                      else self.pool.latent_shape(job.model, job.duration))
        warm = self.lineages.warm_start(spec.lineage, model=job.model, latent_shape=shape, takes=job.variations)
        if warm.path is not None:
            log.info("job %s warm-starts from the x_T* of job %s (lineage %s)", record.id, warm.from_job,
                     spec.lineage, extra={"job_id": record.id})
        elif warm.note is not None:
            log.warning("job %s: %s", record.id, warm.note, extra={"job_id": record.id})
        return warm

    def _remember(self, record: JobRecord, lineage: str, model: str, x_T: Any) -> None:
        """Make the finished job's x_T* its lineage's latest; a failure to save is logged, the job stays done."""
        try:
            self.lineages.record(lineage, record.id, model, x_T)
        except LineageStoreError as error:
            log.warning("job %s: its x_T* was not kept for lineage %s: %s", record.id, lineage, error,
                        extra={"job_id": record.id})

    def _write(self, record: JobRecord, spec: OutputSpec, result: Any,
               warm: WarmStart) -> list[tuple[Path, str]]:
        """Every take in the outbox with its summary: (WAV path, summary), in take order. A take an earlier run
        published is kept, with the summary its sidecar holds."""
        base = result.to_sidecar()
        takes = []
        for take in range(result.audio.shape[0]):
            audio = result.audio[take]
            if spec.keep_seconds:
                audio = audio[:, : int(round(spec.keep_seconds * result.sample_rate))]
            seed = result.seeds[take]
            report, summary = take_report(result, take)
            sidecar = {
                "ditto_bridge": {"version": __version__, "job_id": record.id, "take": take + 1, "seed": seed,
                                 "task": spec.task, "placement": spec.placement, "device_request": spec.device,
                                 "source": record.source, "attempts": record.attempts, "lineage": spec.lineage,
                                 "warm_start_from": warm.from_job, "warm_start_note": warm.note,
                                 "summary": summary, "controls_report": report},
                **base,
            }
            stem = take_stem(spec.name, spec.task, seed, take + 1)
            published = published_take(Path(self.config.outbox), stem, record.id, take + 1)
            if published is not None:  # published by an earlier run of this job that was killed: kept, not rewritten
                log.info("job %s: take %d was published before the daemon stopped: %s", record.id, take + 1,
                         published.name, extra={"job_id": record.id})
                takes.append((published, published_summary(published)))
                continue
            takes.append((write_take(Path(self.config.outbox), stem, audio, in_rate=result.sample_rate,
                                     out_rate=spec.sample_rate, channels=spec.channels, sidecar=sidecar,
                                     subtype=self.config.wav_subtype, owner=self.owner), summary))
            self._notify(record, "/ditto/progress", (record.id, OPTIMIZE_SHARE + (1 - OPTIMIZE_SHARE) *
                                                    (take + 1) / result.audio.shape[0], result.steps_run,
                                                    result.loss_history[-1]["total"] if result.loss_history else 0.0))
        return takes

    def _notify(self, record: JobRecord, address: str, args: tuple) -> None:
        self.send(address, args, record.reply_to)

    def _failed(self, record: JobRecord, message: str) -> None:
        self.queue.fail(record.id, message)
        self.remove_references(record)
        log.warning("job %s failed: %s", record.id, message, extra={"job_id": record.id})
        self._notify(record, "/ditto/error", (record.id, message[:1000]))

    def remove_references(self, record: JobRecord) -> None:
        """Delete the reference files rendered for `record` (entries of the daemon's own folder, never followed)."""
        for raw in record.references:
            path = Path(raw)
            try:
                with folder(path.parent) as where:
                    where.unlink(path.name)
            except OSError as error:
                log.warning("job %s: could not remove %s (%s)", record.id, path.name, error,
                            extra={"job_id": record.id})
