"""`ClusterPool`: the daemon's side of a Ray cluster, a fixed number of `ModelActor`s that run jobs.

    pool = ClusterPool("auto", 2, model="builtin", device="auto")   # or "ray://head:10001", "head:6379"
    result = pool.run(job_id, job_dict, references={path: bytes}, warm_start=None,
                      progress=print, should_cancel=lambda: False)  # a GenerationResult
    pool.close()

Addresses: ``"auto"`` starts a local Ray on this machine (listening on 127.0.0.1 only, unless Ray was imported
before with other settings); ``"ray://HOST:PORT"`` connects through Ray's client (the head's client server, port
10001 by default; from any machine); ``"HOST:PORT"`` joins the cluster whose GCS listens there (this machine must
be a node of it: ``ray start --address HOST:PORT``). A process that has called ``ray.init`` itself keeps its own
connection (tests, benchmarks). A cluster with token authentication (recent Ray turns it on) needs its token here
too: ``RAY_AUTH_MODE=token`` and the token in ``~/.ray/auth_token`` or ``RAY_AUTH_TOKEN``; the error says so.

Each actor takes one GPU (and one CPU) where the cluster has GPUs (``num_gpus=1``; `device` "cpu" asks for none),
else `cpus_per_actor` CPUs (by default as many as lets every actor fit on the nodes: 2 actors on a 2-CPU machine
take 1 each, 1 actor takes 2), and torch uses that many threads; it loads `model` when the pool starts. `run`
takes the least recently used idle actor, so independent jobs spread over the actors; a job of several variations
also takes the other actors idle at that moment and runs its takes in parts side by side, one part on each
(`ditto_bridge.cluster.variations`; never waiting for a busy actor, so other jobs keep their turn). It fetches
the run's progress every `POLL_SECONDS` and forwards it, and turns ``should_cancel()`` into the actor's `cancel`. When the actor or
its node dies (`RayActorError`, `ActorDiedError`, `WorkerCrashedError`, `NodeDiedError`), the pool starts a
replacement in its place and raises `ClusterRetryableError`: the caller runs the job again (the daemon's worker,
within its bounded attempts).
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from ditto_bridge.cluster.errors import EXTRA_HINT, ClusterError, ClusterRetryableError
from ditto_bridge.cluster.variations import join_results, split_job

log = logging.getLogger("ditto_bridge.cluster")

POLL_SECONDS = 0.1
"""How often a running job's progress is fetched and its cancel flag looked at."""
CALL_TIMEOUT = 30.0
"""Seconds a quick actor call (progress, info, shape) may take before it is given up."""
CONNECT_TIMEOUT = 5.0
"""Seconds to wait for the head's port to accept a connection before Ray is asked to connect (Ray itself retries
for minutes)."""
START_TIMEOUT = 600.0
"""Seconds the actors may take to start and load the model (a large model downloads on first use)."""
LOCAL_ONLY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
"""Set before Ray is first imported for "auto": a local Ray then binds 127.0.0.1 instead of this machine's LAN
address (Ray reads it once, at import)."""


def import_ray(address: str = "") -> Any:
    """The `ray` module; `ClusterError` naming the extra to install when it is missing."""
    if address == "auto" and "ray" not in sys.modules:
        for key, value in LOCAL_ONLY_ENV.items():
            os.environ.setdefault(key, value)
    try:
        import ray
    except ImportError as error:
        raise ClusterError(f"cluster {address!r}: Ray is not installed ({error}); {EXTRA_HINT}") from None
    return ray


def normalized_address(address: str) -> str:
    """`address` as ``ray.init`` takes it ("auto" -> "local"); `ClusterError` for one that cannot be an address."""
    text = str(address).strip()
    if text == "auto":
        return "local"
    if text.startswith("ray://"):
        rest = text[len("ray://"):]
        host, _, port = rest.rpartition(":")
        if not host or "/" in host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ClusterError(f"cluster {address!r}: expected ray://HOST:PORT (the head's client server, port "
                               f"10001 unless changed)")
        return text
    host, _, port = text.rpartition(":")
    if not host or "/" in host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ClusterError(f"cluster {address!r}: expected 'auto', 'ray://HOST:PORT' or 'HOST:PORT' (the head's "
                           f"GCS address that `ray start --head` prints)")
    return text


@dataclass
class _Slot:
    """One actor of the pool and what it is doing."""

    index: int
    actor: Any
    ready: Any = None
    """The actor's model load (an object ref) until a run has seen it finish."""
    job_id: str | None = None
    last_used: float = 0.0
    replaced: int = 0


class ClusterPool:
    """`actors` `ModelActor`s on the Ray cluster at `address`, each with `model` loaded (see the module docstring)."""

    def __init__(self, address: str, actors: int = 1, *, model: str, device: str = "auto",
                 cpus_per_actor: float | None = None, start_timeout: float = START_TIMEOUT) -> None:
        if isinstance(actors, bool) or not isinstance(actors, int) or actors < 1:
            raise ClusterError(f"cluster_actors: must be a whole number of at least 1, got {actors!r}")
        self.ray = ray = import_ray(address)
        self.requested = address
        self.model = model
        self.device = device
        self.cpus_per_actor = 1.0
        self._started_ray = False
        self._closed = False
        self._cond = threading.Condition()
        self._connect(normalized_address(address))  # sets self.address
        try:
            resources = ray.cluster_resources()
            self.gpus = int(resources.get("GPU", 0))
            cpus = float(resources.get("CPU", 0))
            self.use_gpu = self.gpus > 0 and device.split(":")[0] in ("auto", "cuda")
            if device.split(":")[0] == "cuda" and not self.gpus:
                raise ClusterError(f"device {device!r}: the cluster at {self.address} has no GPU; start a worker on "
                                   f"a GPU machine (ray start --address ...) or use device 'auto' or 'cpu'")
            if self.use_gpu and actors > self.gpus:
                raise ClusterError(f"cluster_actors {actors}: the cluster at {self.address} has {self.gpus} GPU(s) "
                                   f"and each actor takes one; set cluster_actors to at most {self.gpus} or add GPU "
                                   f"workers")
            if not self.use_gpu:
                nodes = [float(node.get("Resources", {}).get("CPU", 0)) for node in ray.nodes() if node.get("Alive")]
                self.cpus_per_actor = (float(cpus_per_actor) if cpus_per_actor is not None
                                       else float(cpus_each(nodes, actors)))
                if sum(int(n // self.cpus_per_actor) for n in nodes) < actors:
                    raise ClusterError(f"cluster_actors {actors}: the cluster at {self.address} has {cpus:g} CPU(s) "
                                       f"and each actor takes {self.cpus_per_actor:g}; set cluster_actors to at most "
                                       f"{sum(int(n // self.cpus_per_actor) for n in nodes)} or add workers")
            self._slots = []
            for i in range(actors):
                actor, ready = self._new_actor()
                self._slots.append(_Slot(i, actor, ready))
            self._wait_started(start_timeout)
        except BaseException:
            self.close()
            raise
        log.info("cluster %s: %d actor(s) with %s loaded (%s)", self.address, actors, model,
                 f"one GPU each, {self.gpus} in the cluster" if self.use_gpu else
                 f"{self.cpus_per_actor:g} CPU each")

    # ---------------------------------------------------------------------------------------------- starting
    def _connect(self, address: str) -> None:
        self._started_ray = connect(self.ray, address, self.requested)
        self.address = gcs_address(self.ray, self.requested)

    def _new_actor(self) -> tuple[Any, Any]:
        """A new actor and the object ref of its model load."""
        from ditto_bridge.cluster.actor import ModelActor

        options: dict[str, Any] = {"num_cpus": self.cpus_per_actor, "num_gpus": 1 if self.use_gpu else 0,
                                   "max_restarts": 0}
        device = "cuda" if self.use_gpu else "auto" if self.device == "auto" else self.device.split(":")[0]
        actor = ModelActor.options(**options).remote(device)  # "cuda": the GPU Ray gave this actor
        return actor, actor.load.remote(self.model)  # loading starts at once; a run waits for it (see _run_on)

    def _wait_started(self, timeout: float) -> None:
        ray = self.ray
        try:
            ray.get([slot.ready for slot in self._slots], timeout=timeout)
        except ray.exceptions.GetTimeoutError:
            raise ClusterError(f"cluster {self.address}: the actors did not start within {timeout:.0f} s; the cluster "
                               f"may lack free {'GPUs' if self.use_gpu else 'CPUs'} (other programs use them?), or "
                               f"its nodes lack ditto-bridge (install it on every node, same version)") from None
        except ray.exceptions.RayTaskError as error:
            raise ClusterError(f"cluster {self.address}: model {self.model!r} does not load on the actors: "
                               f"{_cause_text(error)}") from None
        except ray.exceptions.RayActorError as error:
            raise ClusterError(f"cluster {self.address}: an actor died while starting ({_cause_text(error)}); is "
                               f"ditto-bridge installed on every node, with the same version?") from None

    # ------------------------------------------------------------------------------------------------ running
    def run(self, job_id: str, job: dict[str, Any], *, references: dict[str, bytes] | None = None,
            warm_start: bytes | None = None, progress: Callable[[dict[str, Any]], None] | None = None,
            should_cancel: Callable[[], bool] | None = None) -> Any:
        """Run `job` (the engine job's JSON form) on an idle actor; its `GenerationResult`.

        The run's exceptions come back as themselves (`engine.errors.CancelledError`, `JobError`...);
        `ClusterRetryableError` when the actor died (it has been replaced); `ClusterError` after `close`.
        """
        wanted = int(job.get("variations", 1)) if warm_start is None else 1  # a warm start is one batch's x_T
        slots = self._take(job_id, wanted)
        try:
            if len(slots) == 1:
                return self._run_on(slots[0], job_id, job, references or {}, warm_start, progress, should_cancel)
            return self._run_parts(slots, job_id, job, references or {}, progress, should_cancel)
        finally:
            with self._cond:
                for slot in slots:
                    slot.job_id, slot.last_used = None, time.monotonic()
                self._cond.notify_all()

    def _take(self, job_id: str, wanted: int = 1) -> list[_Slot]:
        """The idle actor used least recently (waits for one), and up to `wanted` - 1 more that are idle now."""
        with self._cond:
            while True:
                if self._closed:
                    raise ClusterError(f"job {job_id}: the cluster pool is closed")
                idle = sorted((slot for slot in self._slots if slot.job_id is None),
                              key=lambda s: (s.last_used, s.index))
                if idle:
                    taken = idle[:max(1, wanted)]
                    for slot in taken:
                        slot.job_id = job_id
                    return taken
                self._cond.wait(timeout=1.0)

    def _run_parts(self, slots: list[_Slot], job_id: str, job: dict[str, Any], references: dict[str, bytes],
                   progress: Callable[[dict[str, Any]], None] | None,
                   should_cancel: Callable[[], bool] | None) -> Any:
        """A job's variations split over `slots`, one part each, run side by side and joined
        (`ditto_bridge.cluster.variations`). The first part's progress stands for the job's; the first failure
        cancels the other parts and is raised."""
        parts = split_job(job, len(slots))
        results: list[Any] = [None] * len(parts)
        failures: list[Exception] = []

        def cancelled() -> bool:
            return bool(failures) or (should_cancel is not None and should_cancel())

        def run_part(index: int) -> None:
            try:
                results[index] = self._run_on(slots[index], f"{job_id}.{index}", parts[index], references, None,
                                              progress if index == 0 else None, cancelled)
            except Exception as error:  # noqa: BLE001 -- any failure of a part is handed to the caller's thread
                failures.append(error)

        threads = [threading.Thread(target=run_part, args=(i,), name=f"{job_id}.{i}") for i in range(1, len(parts))]
        for thread in threads:
            thread.start()
        run_part(0)
        for thread in threads:
            thread.join()
        if failures:
            raise next((f for f in failures if not _is_cancel(f)), failures[0])
        joined = join_results(results)
        log.info("job %s: %d takes ran in %d parts side by side", job_id, len(joined.seeds), len(parts))
        return joined

    def _run_on(self, slot: _Slot, job_id: str, job: dict[str, Any], references: dict[str, bytes],
                warm_start: bytes | None, progress: Callable[[dict[str, Any]], None] | None,
                should_cancel: Callable[[], bool] | None) -> Any:
        ray = self.ray
        actor = slot.actor
        try:
            while slot.ready is not None:  # a replacement still loading the model (or waiting for room)
                if ray.wait([slot.ready], timeout=POLL_SECONDS)[0]:
                    ray.get(slot.ready)
                    slot.ready = None
                elif should_cancel is not None and should_cancel():
                    from engine.errors import CancelledError

                    raise CancelledError("cancelled while the cluster started an actor for it")
            ref = actor.run.remote(job_id, job, references, warm_start)
            seen, cancel_sent = 0, False
            while True:
                ready, _ = ray.wait([ref], timeout=POLL_SECONDS)
                if progress is not None:
                    try:
                        events = ray.get(actor.events.remote(job_id, seen), timeout=CALL_TIMEOUT)
                    except ray.exceptions.GetTimeoutError:
                        events = []  # the actor is busy answering: the next fetch brings them
                    seen += len(events)
                    for event in events:
                        progress(event)
                if ready:
                    return ray.get(ref)
                if not cancel_sent and should_cancel is not None and should_cancel():
                    actor.cancel.remote(job_id)
                    cancel_sent = True
        except (ray.exceptions.RayTaskError, *_lost_errors(ray)) as error:
            raise self._translated(error, slot, actor, f"job {job_id}: the cluster lost the actor running it "
                                   f"({type(error).__name__}: {_cause_text(error)})") from None

    def _replace(self, slot: _Slot, dead: Any) -> None:
        """Start a new actor in `slot` unless that was done already (a second thread saw the same death)."""
        with self._cond:
            if slot.actor is not dead or self._closed:
                return
            try:
                self.ray.kill(dead, no_restart=True)
            except (ValueError, self.ray.exceptions.RayError):
                pass  # already gone
            slot.actor, slot.ready = self._new_actor()
            slot.replaced += 1
        log.warning("cluster: actor %d died; replaced it (replacement %d)", slot.index, slot.replaced)

    def latent_shape(self, model: str, duration: float) -> tuple[int, ...]:
        """One take's x_T shape for `duration` seconds of `model`, asked of an actor (no model loads here)."""
        ray = self.ray
        slot = min(self._slots, key=lambda s: (s.job_id is not None, s.index))
        actor = slot.actor
        try:
            return tuple(ray.get(actor.latent_shape.remote(model, float(duration)), timeout=START_TIMEOUT))
        except (ray.exceptions.RayTaskError, *_lost_errors(ray)) as error:
            raise self._translated(error, slot, actor, "the cluster lost an actor while asking it a latent shape "
                                   f"({type(error).__name__})") from None

    def _translated(self, error: Exception, slot: _Slot, actor: Any, lost: str) -> Exception:
        """What a failed actor call raises here: the job's own error when the actor raised one (a cancel, a bad
        job), else, for a lost actor, `ClusterRetryableError` saying `lost` once a new actor replaced it."""
        if isinstance(error, self.ray.exceptions.RayTaskError):
            cause = getattr(error, "cause", None)
            if isinstance(cause, Exception) and not isinstance(cause, self.ray.exceptions.RayError):
                return cause
            return error
        self._replace(slot, actor)
        return ClusterRetryableError(f"{lost}; a new actor has replaced it")

    # ------------------------------------------------------------------------------------------------ reports
    def describe(self) -> dict[str, Any]:
        """What `doctor` shows: reachable, nodes, CPUs, GPUs, and per actor its process, node, device, models,
        jobs run and the job it runs now (an actor that does not answer has ``error`` instead)."""
        ray = self.ray
        try:
            resources = ray.cluster_resources()
            nodes = sum(1 for node in ray.nodes() if node.get("Alive"))
        except (ConnectionError, RuntimeError) as error:
            return {"address": self.address, "reachable": False, "error": str(error)[:300]}
        actors = []
        with self._cond:
            slots = [(slot.index, slot.actor, slot.job_id, slot.replaced) for slot in self._slots]
        for index, actor, job_id, replaced in slots:
            entry: dict[str, Any] = {"index": index, "job": job_id, "replaced": replaced}
            try:
                entry.update(ray.get(actor.info.remote(), timeout=CALL_TIMEOUT))
            except (ray.exceptions.RayError, ray.exceptions.GetTimeoutError) as error:
                entry["error"] = f"{type(error).__name__}: {_cause_text(error)}"
            actors.append(entry)
        return {"address": self.address, "reachable": True, "ray_version": ray.__version__, "nodes": nodes,
                "cpus": float(resources.get("CPU", 0)), "gpus": int(resources.get("GPU", 0)),
                "uses_gpus": self.use_gpu, "actors": actors,
                "models_loaded": sorted({m for a in actors for m in a.get("models", ())})}

    # ------------------------------------------------------------------------------------------------- ending
    def close(self) -> None:
        """End the actors (a job still running on one is abandoned) and disconnect, if this pool connected."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            slots = list(getattr(self, "_slots", ()))
            self._cond.notify_all()
        for slot in slots:
            try:
                self.ray.kill(slot.actor, no_restart=True)
            except (ValueError, self.ray.exceptions.RayError):
                pass  # already gone
        if self._started_ray:
            self.ray.shutdown()

    def __enter__(self) -> "ClusterPool":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def cpus_each(nodes: list[float], actors: int) -> int:
    """The most whole CPUs each of `actors` actors can take so that all of them fit on nodes with `nodes` CPUs
    (at least 1)."""
    for each in range(int(max(nodes, default=1)), 0, -1):
        if sum(int(n // each) for n in nodes) >= actors:
            return each
    return 1


def connect(ray: Any, address: str, requested: str) -> bool:
    """Connect this process to Ray at `address` (as `normalized_address` gives it); True when this call connected
    (or started a local Ray), False when the process was connected already (that connection is kept)."""
    if ray.is_initialized():
        log.info("cluster: this process is already connected to Ray; using that connection")
        return False
    options: dict[str, Any] = {"address": address, "log_to_driver": True}
    if address == "local":
        options.update(include_dashboard=False)
    else:
        check_listening(address, requested)
    if address.startswith("ray://"):
        try:
            import grpc  # noqa: F401 - Ray's client needs it
        except ImportError:
            raise ClusterError(f"cluster {requested!r}: ray:// addresses need Ray's client; install it: "
                               f"python3 -m pip install 'ray[client]'") from None
    try:
        ray.init(**options)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as error:
        chain, cause = [], error
        while cause is not None and len(chain) < 8:
            chain.append(f"{type(cause).__name__}: {cause}")
            cause = cause.__cause__ or cause.__context__
        if any("AuthenticationError" in text or "InvalidAuthToken" in text for text in chain):
            hint = ("the cluster asks for its token: run `ray get-auth-token` on the head, put the token in "
                    "~/.ray/auth_token here (or in RAY_AUTH_TOKEN) and set RAY_AUTH_MODE=token")
        else:
            hint = "is the head running (ray start --head) and is the address the one it printed?"
        raise ClusterError(f"cluster {requested!r}: cannot connect ({type(error).__name__}: {str(error)[:300]}); "
                           f"{hint}") from None
    return True


def check_listening(address: str, requested: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """`ClusterError` unless something accepts a TCP connection at `address`'s host and port within `timeout`."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as error:
        what = "the head's client server (ray start --head; port 10001 unless changed)" if address.startswith(
            "ray://") else "the head's GCS (the address `ray start --head` prints, port 6379 unless changed)"
        raise ClusterError(f"cluster {requested!r}: nothing answers at {host}:{port} ({error.strerror or error}); "
                           f"expected {what}. Is the head running, and reachable from this machine?") from None


def gcs_address(ray: Any, fallback: str) -> str:
    """The address of the cluster this process is connected to (`fallback` where Ray's client hides it)."""
    try:
        return str(ray.get_runtime_context().gcs_address)
    except (AttributeError, RuntimeError):
        return fallback


def probe(address: str) -> dict[str, Any]:
    """Connect to `address` without starting actors: ``{address, ray_version, nodes, cpus, gpus}``; disconnects
    again when it connected. `ClusterError` when Ray is missing or the cluster cannot be reached."""
    ray = import_ray(address)
    started = connect(ray, normalized_address(address), address)
    try:
        resources = ray.cluster_resources()
        return {"address": gcs_address(ray, address), "ray_version": ray.__version__,
                "nodes": sum(1 for node in ray.nodes() if node.get("Alive")), "cpus": float(resources.get("CPU", 0)),
                "gpus": int(resources.get("GPU", 0))}
    finally:
        if started:
            ray.shutdown()


def _lost_errors(ray: Any) -> tuple[type[BaseException], ...]:
    """The exceptions that mean the actor or its node is gone (the job itself did not fail)."""
    names = ("RayActorError", "ActorDiedError", "ActorUnavailableError", "WorkerCrashedError", "NodeDiedError",
             "OwnerDiedError", "ObjectLostError")
    return tuple(getattr(ray.exceptions, name) for name in names if hasattr(ray.exceptions, name))


def _is_cancel(error: Exception) -> bool:
    """Whether `error` is a part stopping because it was cancelled (after another part failed, or by the job)."""
    from engine.errors import CancelledError

    return isinstance(error, CancelledError)


def _cause_text(error: BaseException) -> str:
    """A short, one-line account of a Ray error (its cause's words where it has one)."""
    cause = getattr(error, "cause", None)
    text = str(cause if isinstance(cause, BaseException) else error).strip().splitlines()
    return (text[-1] if text else type(error).__name__)[:300]
