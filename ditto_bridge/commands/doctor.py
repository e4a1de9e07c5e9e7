"""`ditto-bridge doctor`: check what the daemon needs, each line OK, WARN or FAIL, and say what to do.

Checks: the config file, the folders (writable), the UDP port (free; a host other than loopback is a warning:
anyone who can reach it can queue jobs), the compute device, the model (loads; random weights are a warning),
the audio libraries, the MIDI backend. With ``cluster`` set, the cluster replaces the device and model checks:
reachable (nodes, CPUs, GPUs), then its actors started with the model loaded (not with --skip-model).
Exit status 1 when anything FAILs.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from ditto_bridge.commands.serve import add_config_arguments, config_from_args
from ditto_bridge.config import exposure, is_loopback
from ditto_bridge.errors import ConfigError

Check = tuple[str, str, str]  # (status, what, detail)
DOCTOR_START_TIMEOUT = 180.0
"""Seconds the cluster check waits for its actors (a running daemon's actors may hold the CPUs or GPUs it needs)."""


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("doctor", help="check the model, ports, folders, MIDI and compute device",
                                   description=__doc__.splitlines()[0])
    add_config_arguments(parser)
    parser.add_argument("--skip-model", action="store_true", help="do not load the model (faster)")
    parser.set_defaults(func=run)


def check_folder(name: str, folder: Path) -> Check:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-", delete=True) as handle:
            handle.write(b"ok")
    except OSError as error:
        return "FAIL", f"{name} folder", f"{folder}: not writable ({error.strerror or error}); choose another " \
                                         f"with --{name.replace('_', '-')}"
    return "OK", f"{name} folder", str(folder)


def check_port(host: str, port: int, what: str) -> Check:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as error:
            return "FAIL", what, f"udp://{host}:{port} is taken ({error.strerror or error}): is ditto-bridge " \
                                 f"already running? Stop it or choose --port"
    if not is_loopback(host):
        return "WARN", what, f"udp://{host}:{port} is free, but {remote_warning(host)}"
    return "OK", what, f"udp://{host}:{port} is free"


def remote_warning(host: str) -> str:
    return f"{exposure(host)}: anyone who can reach it can queue jobs. Keep --host 127.0.0.1 unless the device " \
           f"runs on another machine"


def check_device(preference: str) -> Check:
    import torch

    from engine.device import DeviceUnavailableError, pick_device
    from engine.precision import PrecisionError, precision_name, resolve_precision

    try:
        device = pick_device(preference)
        precision = precision_name(resolve_precision(device))
    except (DeviceUnavailableError, PrecisionError) as error:
        return "FAIL", "compute device", str(error)
    detail = f"{device}, model calls in {precision}"
    if device.type == "cuda":
        detail += f" ({torch.cuda.get_device_name(device)})"
    elif device.type == "cpu":
        detail += f" ({torch.get_num_threads()} threads; no CUDA or Apple GPU found: renders will be slow)"
        return "WARN" if preference in ("auto", None) else "OK", "compute device", detail
    return "OK", "compute device", detail


def check_model(name: str, preference: str) -> Check:
    from engine.api import load_model
    from engine.errors import EngineError

    started = time.perf_counter()
    try:
        model = load_model(name, preference)
    except EngineError as error:
        return "FAIL", "model", str(error)
    seconds = time.perf_counter() - started
    detail = f"{model.info.name}: {model.info.description} ({model.info.sample_rate} Hz, loaded in {seconds:.1f} s)"
    if not model.info.trained:
        return "WARN", "model", detail + " - random weights: the audio is not music until the model is trained"
    return "OK", "model", detail


def check_cluster(config: Any, *, start_actors: bool) -> list[Check]:
    """The cluster reachable; then, with `start_actors`, `cluster_actors` actors started with the model loaded
    (what `serve` starts), each reported, and closed again."""
    from ditto_bridge.cluster import ClusterError

    try:
        from ditto_bridge.cluster.pool import ClusterPool, probe

        if not start_actors:
            found = probe(config.cluster)
        else:
            started = time.perf_counter()
            with ClusterPool(config.cluster, config.cluster_actors, model=config.model, device=config.device,
                             start_timeout=DOCTOR_START_TIMEOUT) as pool:
                found = pool.describe()
            seconds = time.perf_counter() - started
    except ClusterError as error:
        return [("FAIL", "cluster", str(error))]
    named = "" if found["address"] == config.cluster else f" ({config.cluster})"
    reach = (f"{found['address']}{named} reachable, Ray {found.get('ray_version', '?')}, {found['nodes']} node(s), "
             f"{found['cpus']:g} CPU(s), {found['gpus']} GPU(s)")
    results: list[Check] = [("OK", "cluster", reach)]
    if not start_actors:
        return results
    for actor in found["actors"]:
        if "error" in actor:
            results.append(("FAIL", f"cluster actor {actor['index']}", actor["error"]))
            continue
        where = f"pid {actor['pid']} on {actor['node_ip']}, {actor['device']}" + (
            f" ({actor['gpu']})" if actor.get("gpu") else f" ({actor['torch_threads']} torch thread(s))")
        results.append(("OK", f"cluster actor {actor['index']}", f"{where}; models loaded: "
                                                                 f"{', '.join(actor['models']) or 'none'}"))
    if not found["uses_gpus"]:
        results.append(("WARN", "cluster GPUs", f"none used: the {len(found['actors'])} actor(s) run on CPUs (slow); "
                                                f"add GPU workers (ray start --address ... on a GPU machine)"))
    else:
        results.append(("OK", "cluster GPUs", f"{len(found['actors'])} actor(s), one GPU each, started with "
                                              f"{config.model} in {seconds:.1f} s"))
    return results


def check_audio_libraries() -> Check:
    import soundfile
    import soxr

    return "OK", "audio libraries", f"libsndfile {soundfile.__libsndfile_version__}, soxr {soxr.__version__}"


def check_midi(port_name: str | None) -> Check:
    from ditto_bridge.midi import backend_status

    ok, text = backend_status()
    if ok:
        return "OK", "MIDI backend", text + (f"; midi_in {port_name!r}" if port_name else "")
    status = "WARN"  # MIDI is optional: the daemon serves OSC without it
    return status, "MIDI backend", f"{text}. MIDI input is off; OSC keeps working"


def run(args: argparse.Namespace) -> int:
    results: list[Check] = []
    try:
        config = config_from_args(args)
    except ConfigError as error:
        print(f"FAIL  config: {error}")
        return 1
    results.append(("OK", "config", config.source))
    for name in ("data_dir", "inbox", "outbox"):
        results.append(check_folder(name, Path(getattr(config, name))))
    if config.port:
        results.append(check_port(config.host, config.port, "OSC port"))
    elif is_loopback(config.host):
        results.append(("OK", "OSC port", "0: any free port"))
    else:
        results.append(("WARN", "OSC port", f"0: any free port, but {remote_warning(config.host)}"))
    steps: list[Callable[[], Check]] = [lambda: check_device(config.device), check_audio_libraries,
                                        lambda: check_midi(config.midi_in)]
    if config.cluster:
        steps.pop(0)  # jobs run on the cluster's devices: reported by its actors
        results.extend(check_cluster(config, start_actors=not args.skip_model))
    elif not args.skip_model:
        steps.insert(1, lambda: check_model(config.model, config.device))
    for step in steps:
        results.append(step())
    width = max(len(what) for _, what, _ in results)
    for status, what, detail in results:
        print(f"{status:<5} {what:<{width}}  {detail}")
    failed = sum(1 for status, _, _ in results if status == "FAIL")
    print(f"\n{'all checks passed' if not failed else f'{failed} check(s) failed'}")
    sys.stdout.flush()
    return 1 if failed else 0
