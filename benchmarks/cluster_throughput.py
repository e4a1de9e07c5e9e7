"""Cluster throughput: 8 jobs in process and on 1, 2 and 4 Ray actors; what one job costs through Ray (s, bytes).

    python benchmarks/cluster_throughput.py                 # local Ray on 127.0.0.1 (2 CPUs); writes the docs
    python benchmarks/cluster_throughput.py --quick         # 2 jobs per batch, 4 Adam steps, 1 round; prints only
    python benchmarks/cluster_throughput.py --bytes-only    # what travels per job; no Ray needed; prints only
    python benchmarks/cluster_throughput.py --cluster HEAD:6379 --device cuda --actors 1 2 4 --no-write
    python benchmarks/cluster_throughput.py --variations 4    # one job of 4 takes on 1 and 2 actors; its own section

The job is the daemon's own kind of work at a size that runs the whole path in seconds: `builtin-tiny` (random
weights), a 2 s intensity ramp (-30 -> -20 dB), DPM-Solver++ 6 steps to optimize through and to render, 12 Adam
steps without early stop, so every job does the same work; the 8 jobs of a batch differ only in their seed.

Configurations, each measured as one batch of 8 jobs per round (2 rounds, the second in reverse order, so a change
in the load of a shared machine weighs on all of them alike):

- in process: one thread calls `engine.api.generate` for the jobs one after another (today's daemon worker) on a
  model loaded once, with 1 torch thread (`--threads 1 2` adds 2, the daemon's default on 2 cores);
- Ray, N actors (1, 2, 4): a fresh `ClusterPool` of N `ModelActor`s on the local Ray (or `--cluster`), 1 CPU and
  1 torch thread each (4 actors on 2 CPUs: half a CPU each, so they share the cores), N threads each calling
  `pool.run` for the next job (the daemon's N worker threads), so jobs spread over the actors.

Starting a pool (actors with the model loaded) and a warm-up job per actor (the tag set's level range) are
reported, not counted; so is the in-process warm-up. Per job, the overhead of Ray is the seconds `pool.run` took
minus the seconds `generate` took inside the actor (`result.timings["total"]`): sending the job, scheduling,
fetching progress, returning the result. Bytes are the serialized sizes (`ray.cloudpickle`, protocol 5, what Ray's
object store carries) of what crosses: the request (job id, engine job, references, warm start), each progress
event and the returned `GenerationResult`. A second table measures the same for larger payloads without Ray: a
6 s take of the `builtin` model, a rendered reference window, a warm start's x_T*. Writes the
"cluster-throughput" section of docs/RESULTS.md and the "measured" section of docs/CLUSTER.md unless --quick,
--bytes-only or --no-write.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import io
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from results_doc import markdown_table, provenance, update_section

from engine.api import GenerationResult, generate
from engine.job import Job
from engine.models.registry import load_model

CLUSTER_DOC = Path(__file__).resolve().parent.parent / "docs" / "CLUSTER.md"
INSTALL_HINT = 'Ray is not installed: install the cluster extra, python3 -m pip install -e ".[cluster]"'
REFERENCE_SECONDS, REFERENCE_RATE, REFERENCE_CHANNELS = 6.0, 48_000, 2
"""The reference window of the bytes table: what the worker renders from a Live clip (float WAV at the clip's rate)."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """One benchmark configuration: model, clip length (s), sampler steps, Adam steps, jobs per batch, device."""

    model: str = "builtin-tiny"
    duration: float = 2.0
    sampler_steps: int = 6
    optimizer_steps: int = 12
    jobs: int = 8
    device: str = "cpu"


FULL = Settings()
QUICK = Settings(optimizer_steps=4, jobs=2)


def job_dict(settings: Settings, seed: int) -> dict:
    """The engine job (JSON form): an intensity ramp, the same fixed amount of work for every seed."""
    return {"name": f"cluster-bench-{seed}", "duration": settings.duration, "model": settings.model, "seed": seed,
            "sampler": {"name": "dpmsolver++", "steps": settings.sampler_steps},
            "optimizer": {"steps": settings.optimizer_steps, "early_stop": False},
            "controls": [{"type": "intensity", "times": [0.0, settings.duration], "db": [-30.0, -20.0]}]}


def serialized_bytes(value: Any) -> int:
    """Bytes of `value` serialized as Ray serializes an argument or a return value (cloudpickle, protocol 5, numpy
    and torch buffers counted in full); plain pickle when Ray is not installed."""
    try:
        from ray import cloudpickle as pickler
    except ImportError:
        import pickle as pickler
    return len(pickler.dumps(value, protocol=5))


def tensor_file_bytes(tensor: torch.Tensor) -> bytes:
    """A warm start as the daemon keeps it (`torch.save`), the bytes that travel for it."""
    buffer = io.BytesIO()
    torch.save(tensor, buffer)
    return buffer.getvalue()


def reference_window_bytes(seconds: float, rate: int, channels: int) -> bytes:
    """A rendered reference window: float WAV of `seconds` at `rate` Hz, `channels` channels (as the worker
    renders a clip's audio), filled with a quiet sine."""
    t = np.arange(int(seconds * rate)) / rate
    audio = np.repeat((0.1 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)[:, None], channels, axis=1)
    buffer = io.BytesIO()
    sf.write(buffer, audio, rate, format="WAV", subtype="FLOAT")
    return buffer.getvalue()


@dataclasses.dataclass
class JobRun:
    """One timed job: wall seconds around the call, seconds `generate` measured itself, and bytes that crossed."""

    wall_s: float
    engine_s: float
    request_bytes: int = 0
    result_bytes: int = 0
    progress_events: int = 0
    progress_bytes: int = 0

    @property
    def overhead_s(self) -> float:
        return self.wall_s - self.engine_s


@dataclasses.dataclass
class Batch:
    """One configuration's jobs in one round: start and warm-up seconds, the batch's wall seconds, the jobs, the
    1-minute load average when it ended, and (Ray) torch threads and jobs run per actor."""

    start_s: float
    warmup_s: float
    batch_s: float
    runs: list[JobRun]
    load: float
    threads: str
    jobs_per_actor: list = dataclasses.field(default_factory=list)


def load_average() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


# 1. In process: today's worker, one job after another on one loaded model.

def in_process(settings: Settings, threads: int, warm: set[int]) -> Batch:
    """The jobs through `generate` in this process with `threads` torch threads; the model is loaded and one job
    run first when this thread count was not warmed up yet (`warm`)."""
    torch.set_num_threads(threads)
    started = time.perf_counter()
    model = load_model(settings.model, settings.device)
    if threads not in warm:
        generate(Job.from_dict(job_dict(settings, 1000)), model=model)  # the tag set's levels, caches
        warm.add(threads)
    warmup = time.perf_counter() - started
    runs = []
    batch_started = time.perf_counter()
    for seed in range(settings.jobs):
        events: list[dict] = []
        t0 = time.perf_counter()
        result = generate(Job.from_dict(job_dict(settings, seed)), model=model, progress=events.append)
        runs.append(JobRun(wall_s=time.perf_counter() - t0, engine_s=result.timings["total"],
                           progress_events=len(events)))
    batch = time.perf_counter() - batch_started
    print(f"in process, {threads} thread(s): {settings.jobs} jobs in {batch:.1f} s (warm-up {warmup:.1f} s)",
          flush=True)
    return Batch(0.0, warmup, batch, runs, load_average(), str(threads))


# 2. Through Ray: a ClusterPool, N actors, N daemon-side threads.

def run_remote(pool: Any, job_id: str, job: dict, should_cancel: Callable[[], bool] = lambda: False) -> JobRun:
    """One job through `pool.run`, timed, its progress events and bytes counted."""
    events: list[dict] = []
    lock = threading.Lock()

    def progress(event: dict) -> None:
        with lock:
            events.append(event)

    request = (job_id, job, {}, None)
    t0 = time.perf_counter()
    result = pool.run(job_id, job, references={}, warm_start=None, progress=progress, should_cancel=should_cancel)
    wall = time.perf_counter() - t0
    if not isinstance(result, GenerationResult):
        raise TypeError(f"pool.run returned {type(result).__name__}, expected engine.api.GenerationResult")
    return JobRun(wall_s=wall, engine_s=result.timings["total"], request_bytes=serialized_bytes(request),
                  result_bytes=serialized_bytes(result), progress_events=len(events),
                  progress_bytes=sum(serialized_bytes(e) for e in events))


def through_ray(settings: Settings, actors: int, address: str, round_index: int, cpus: float | None) -> Batch:
    """The jobs through a fresh `ClusterPool` of `actors` actors of `cpus` CPUs each (None: the pool's default),
    from `actors` threads (the daemon's workers), after one warm-up job per actor."""
    from ditto_bridge.cluster.pool import ClusterPool

    t0 = time.perf_counter()
    pool = ClusterPool(address, actors, model=settings.model, device=settings.device, cpus_per_actor=cpus)
    start = time.perf_counter() - t0
    tag = f"r{round_index}-a{actors}"
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=actors) as threads:
            t0 = time.perf_counter()  # one job per actor at once: the tag set's levels, caches
            list(threads.map(lambda i: run_remote(pool, f"warm-{tag}-{i}", job_dict(settings, 1000 + i)),
                             range(actors)))
            warmup = time.perf_counter() - t0
            t0 = time.perf_counter()
            runs = list(threads.map(lambda seed: run_remote(pool, f"bench-{tag}-{seed}", job_dict(settings, seed)),
                                    range(settings.jobs)))
            batch = time.perf_counter() - t0
        described = pool.describe()
    finally:
        pool.close()
    found = described.get("actors", ())
    print(f"Ray, {actors} actor(s): {settings.jobs} jobs in {batch:.1f} s (pool {start:.1f} s, warm-up "
          f"{warmup:.1f} s); at {described.get('address')}, actors: "
          f"{[(a.get('pid'), a.get('device'), a.get('torch_threads'), a.get('jobs_run')) for a in found]}",
          flush=True)
    threads_per_actor = "/".join(sorted({str(a.get("torch_threads", "?")) for a in found}))
    return Batch(start, warmup, batch, runs, load_average(), threads_per_actor,
                 [a.get("jobs_run", "?") for a in found])


def one_job_of_takes(settings: Settings, takes: int, actors: int, address: str, round_index: int) -> float:
    """Seconds `pool.run` takes for one job of `takes` variations on a fresh pool of `actors` actors of 1 CPU each
    (with more than one, its takes run in parts side by side), after a warm-up job per actor."""
    from ditto_bridge.cluster.pool import ClusterPool

    pool = ClusterPool(address, actors, model=settings.model, device=settings.device, cpus_per_actor=1.0)
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=actors) as threads:
            list(threads.map(lambda i: run_remote(pool, f"warm-v{round_index}-{actors}-{i}",
                                                  job_dict(settings, 2000 + i)), range(actors)))
        run = run_remote(pool, f"takes-{round_index}-{actors}", {**job_dict(settings, 3000), "variations": takes})
    finally:
        pool.close()
    print(f"Ray, {actors} actor(s): one job of {takes} takes in {run.wall_s:.1f} s", flush=True)
    return run.wall_s


def variations_table(settings: Settings, takes: int, address: str, rounds: int) -> str:
    """One job of `takes` variations on 1 and on 2 actors, `rounds` times alternating: seconds to all its takes."""
    seconds: dict[int, list[float]] = {1: [], 2: []}
    for index in range(rounds):
        for actors in ((1, 2) if index % 2 == 0 else (2, 1)):
            seconds[actors].append(one_job_of_takes(settings, takes, actors, address, index))
    one = statistics.mean(seconds[1])
    rows = [[n, f"{statistics.mean(v):.1f}", " / ".join(f"{x:.1f}" for x in v), f"{one / statistics.mean(v):.2f}"]
            for n, v in seconds.items()]
    return markdown_table(["actors (1 CPU each)", f"s to all {takes} takes, mean", "per round",
                           "speed-up over 1 actor"], rows)


def start_local_ray() -> float:
    """A local Ray for this benchmark: 2 CPUs on 127.0.0.1, no dashboard. Seconds it took."""
    import ray

    t0 = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False,
             configure_logging=False)
    return time.perf_counter() - t0


# 3. What travels, for payloads larger than the benchmark's own job.

def payloads(settings: Settings) -> list[list]:
    """Rows (what, direction, bytes, note): measured by serializing real objects, without Ray."""
    tiny_job = job_dict(settings, 0)
    rows = [["engine job (the benchmark's intensity job)", "daemon -> actor", serialized_bytes(tiny_job),
             "the engine job's JSON form"]]
    window = reference_window_bytes(REFERENCE_SECONDS, REFERENCE_RATE, REFERENCE_CHANNELS)
    rows.append([f"reference window, {REFERENCE_SECONDS:g} s, {REFERENCE_RATE // 1000} kHz stereo, float WAV",
                 "daemon -> actor", serialized_bytes({"ref.wav": window}),
                 "per reference (clip audio the job reads: in-/out-painting, loops); scales with seconds x rate"])
    big = load_model("builtin", settings.device)
    job = {"name": "bytes", "duration": 6.0, "model": "builtin", "seed": 0, "tags": ["piano"],
           "sampler": {"name": "dpmsolver++", "steps": 2}, "optimizer": {"steps": 2, "early_stop": False},
           "controls": [{"type": "intensity", "times": [0.0, 6.0], "db": [-30.0, -20.0]}]}
    events: list[dict] = []
    result = generate(Job.from_dict(job), model=big, progress=events.append)
    rows.append(["warm start x_T* (`builtin`, 6 s, 1 take)", "daemon -> actor",
                 serialized_bytes(tensor_file_bytes(result.x_T)), "only for a job that continues a lineage"])
    rows.append(["progress event", "actor -> daemon", max(serialized_bytes(e) for e in events),
                 "one per Adam step and per render check"])
    rows.append(["result: GenerationResult (`builtin`, 6 s, 1 take, 2 Adam steps)", "actor -> daemon",
                 serialized_bytes(result), "audio, audio before gain and x_T*; grows with takes and seconds"])
    per_second = serialized_bytes(result.audio) / 6.0
    rows.append(["  of which the audio, per take and second", "", round(per_second),
                 (f"float32 at {result.sample_rate} Hz, {result.audio.shape[1]} channel(s); the audio before "
                  "gain doubles it")])
    return rows


# 4. Tables and the documents.

def mean(values) -> float:
    return statistics.fmean(values) if values else float("nan")


Config = tuple[str, int, float | None]
"""("in process", torch threads, None) or ("Ray", actors, CPUs per actor; None: the pool's choice)."""


def label(config: Config) -> str:
    kind, n, cpus = config
    if kind == "in process":
        return f"in process, {n} torch thread{'s' if n > 1 else ''}"
    share = "" if cpus is None or cpus >= 1 else f", {cpus:g} CPU each"
    return f"Ray, {n} actor{'s' if n > 1 else ''}{share}"


def ray_configs(actors: list[int], cpus: float | None, total_cpus: float) -> list[Config]:
    """One Ray configuration per pool size; a pool that cannot have `cpus` CPUs per actor on `total_cpus` shares
    them (4 actors on 2 CPUs: 0.5 each, so Ray places all four and they share the cores)."""
    configs: list[Config] = []
    for n in actors:
        each = cpus if cpus is None or n * cpus <= total_cpus else total_cpus / n
        configs.append(("Ray", n, each))
    return configs


def throughput_table(results: dict[Config, list[Batch]]) -> str:
    """Per configuration, over its rounds: jobs per minute from all its jobs and all its batches' seconds."""
    def per_minute(batches: list[Batch]) -> float:
        return 60.0 * sum(len(b.runs) for b in batches) / sum(b.batch_s for b in batches)

    base = results.get(("in process", 1, None))
    header = ["run", "torch threads per process", "jobs", "wall s per round", "jobs per minute",
              "vs in process, 1 thread", "mean s per job in `generate`", "mean Ray overhead s per job",
              "start + warm-up s (not counted)", "load average per round"]
    body = []
    for config, batches in results.items():
        runs = [j for b in batches for j in b.runs]
        ratio = f"{per_minute(batches) / per_minute(base):.2f}x" if base else "-"
        overhead = "-" if config[0] == "in process" else f"{mean([j.overhead_s for j in runs]):.3f}"
        body.append([label(config), batches[0].threads, len(runs), " / ".join(f"{b.batch_s:.1f}" for b in batches),
                     f"{per_minute(batches):.1f}", ratio, f"{mean([j.engine_s for j in runs]):.2f}", overhead,
                     " / ".join(f"{b.start_s:.1f} + {b.warmup_s:.1f}" for b in batches),
                     " / ".join(f"{b.load:.1f}" for b in batches)])
    return markdown_table(header, body)


def overhead_table(results: dict[Config, list[Batch]]) -> str:
    header = ["run", "overhead s per job: median", "max", "jobs run per actor (with warm-up), per round",
              "request bytes", "progress events per job", "progress bytes per job", "result bytes"]
    body = []
    for config, batches in results.items():
        if config[0] == "in process":
            continue
        runs = [j for b in batches for j in b.runs]
        overheads = [j.overhead_s for j in runs]
        body.append([label(config), f"{statistics.median(overheads):.3f}", f"{max(overheads):.3f}",
                     "; ".join(" / ".join(str(n) for n in b.jobs_per_actor) for b in batches),
                     f"{mean([j.request_bytes for j in runs]):,.0f}", f"{mean([j.progress_events for j in runs]):.0f}",
                     f"{mean([j.progress_bytes for j in runs]):,.0f}", f"{mean([j.result_bytes for j in runs]):,.0f}"])
    return markdown_table(header, body)


def bytes_table(rows: list[list]) -> str:
    return markdown_table(["what", "direction", "bytes", "note"],
                          [[what, direction, f"{size:,}", note] for what, direction, size, note in rows])


def describe(settings: Settings, address: str, ray_start_s: float | None, order: list[str],
             cpus: float | None) -> str:
    cluster = (f"a local Ray started by the benchmark (`ray.init(num_cpus=2)` on 127.0.0.1, {ray_start_s:.1f} s to "
               "start)" if address == "auto" else f"the Ray cluster at `{address}`")
    cluster += ("; each actor reserves the CPUs the pool gives it" if cpus is None else
                f"; each actor reserves {cpus:g} CPU (`cpus_per_actor`), or an equal share where the CPUs are fewer "
                "than that (named in the row); its torch threads are in the table")
    return (f"Job: `{settings.model}` (random weights), {settings.duration:g} s intensity ramp -30 -> -20 dB, "
            f"DPM-Solver++ {settings.sampler_steps} steps, {settings.optimizer_steps} Adam steps without early stop, "
            f"device `{settings.device}`: {settings.jobs} jobs per batch (seeds 0-{settings.jobs - 1}), every "
            f"configuration once per round, in the order {'; '.join(order)}. Ray runs on {cluster}; a Ray batch uses a "
            "fresh `ClusterPool` (start: actors started with the model loaded) and one warm-up job per actor; an "
            "in-process batch reuses the loaded model (its warm-up, loading and one job, only the first time); "
            "neither is counted. Ray overhead per job = seconds `pool.run` took minus the seconds `generate` "
            "measured inside the actor; bytes are `ray.cloudpickle` sizes. The machine was shared with other work "
            "(the load averages are in the table), so seconds compare rows of this run, not runs on other days.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 jobs per batch, 4 Adam steps, 1 round; prints only")
    parser.add_argument("--bytes-only", action="store_true", help="only the bytes table; no Ray needed; prints only")
    parser.add_argument("--cluster", default="auto",
                        help="auto (a local Ray on 127.0.0.1, 2 CPUs) or the address of an existing cluster")
    parser.add_argument("--actors", type=int, nargs="+", default=[1, 2, 4],
                        help="pool sizes to measure (default 1 2 4; more actors than CPUs share them)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1],
                        help="torch threads of the in-process batches (default 1; '1 2' adds the daemon's default "
                             "on 2 cores, which takes minutes on a machine other work keeps busy)")
    parser.add_argument("--rounds", type=int, help="rounds, every other one in reverse order (default 2; 1 with "
                                                   "--quick)")
    parser.add_argument("--cpus-per-actor", default="1",
                        help="CPUs (and torch threads) per actor on CPU nodes (default 1, so that the number of "
                             "actors is the only change; 'pool': the pool's own choice)")
    parser.add_argument("--device", default="cpu", help="device for in-process runs and the actors (cpu, cuda)")
    parser.add_argument("--jobs", type=int, help="jobs per batch (default 8, 2 with --quick)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--variations", type=int, help="instead: one job of this many takes on 1 and 2 actors")
    args = parser.parse_args(argv)
    settings = dataclasses.replace(QUICK if args.quick else FULL, device=args.device)
    if args.jobs:
        settings = dataclasses.replace(settings, jobs=args.jobs)
    rounds = args.rounds or (1 if args.quick else 2)
    cpus = None if args.cpus_per_actor == "pool" else float(args.cpus_per_actor)
    write = not (args.quick or args.bytes_only or args.no_write)
    if args.cluster == "auto":  # read by Ray once, at import: a local Ray then binds 127.0.0.1 (as the pool does)
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

    sizes = "" if args.quick else bytes_table(payloads(settings))
    print(sizes, flush=True)
    if args.bytes_only:
        return 0
    try:
        import ray
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        return 2

    if args.variations:
        if args.cluster == "auto":
            start_local_ray()
        else:
            ray.init(address=args.cluster, log_to_driver=False, configure_logging=False)
        try:
            table = variations_table(settings, args.variations, args.cluster, rounds)
        finally:
            ray.shutdown()
        print(table)
        if write:
            text = (f"One job of {args.variations} variations of the benchmark's job ({settings.model}, "
                    f"{settings.duration:g} s, DPM-Solver++ {settings.sampler_steps}, {settings.optimizer_steps} Adam "
                    f"steps, no early stop) through a fresh pool of 1 and of 2 actors of 1 CPU each on "
                    f"{args.cluster}, {rounds} rounds alternating, after a warm-up job per actor. With 2 actors "
                    f"the job's takes run in two parts side by side (`ditto_bridge/cluster/variations.py`).")
            heading = (f"## One job's variations on the cluster (`python benchmarks/cluster_throughput.py "
                       f"--variations {args.variations}`)")
            update_section("cluster-variations", f"{heading}\n\n{provenance()}\n\n{text}\n\n{table}")
            print("updated the cluster-variations section of docs/RESULTS.md")
        return 0

    # Interleaved: in process 1 thread, Ray 1.., in process 2.. threads; the next round in reverse, so a change of
    # the machine's load over the run weighs on every configuration alike.
    ray_start = None
    if args.cluster == "auto":
        ray_start = start_local_ray()
    else:
        ray.init(address=args.cluster, log_to_driver=False, configure_logging=False)
    configs: list[Config] = [("in process", args.threads[0], None)]
    configs += ray_configs(args.actors, cpus, float(ray.cluster_resources().get("CPU", 0)))
    configs += [("in process", n, None) for n in args.threads[1:]]
    results: dict[Config, list[Batch]] = {config: [] for config in configs}
    warm: set[int] = set()
    try:
        for index in range(rounds):
            for config in (configs if index % 2 == 0 else configs[::-1]):
                kind, n, each = config
                batch = (in_process(settings, n, warm) if kind == "in process"
                         else through_ray(settings, n, args.cluster, index, each))
                results[config].append(batch)
    finally:
        ray.shutdown()

    throughput = throughput_table(results)
    overhead = overhead_table(results)
    print(throughput)
    print(overhead)
    if not write:
        return 0
    text = describe(settings, args.cluster, ray_start, [label(c) for c in configs], cpus)
    parts = ["## Cluster throughput (`python benchmarks/cluster_throughput.py`)", provenance(), text, throughput,
             "Ray's overhead and the bytes that crossed, per job:", overhead,
             "What travels for larger jobs (measured without Ray, same serializer):", sizes]
    body = "\n\n".join(parts)
    update_section("cluster-throughput", body)
    update_section("measured", body.replace("## Cluster throughput", "### Cluster throughput", 1), CLUSTER_DOC)
    print("updated the cluster-throughput section of docs/RESULTS.md and the measured section of docs/CLUSTER.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
