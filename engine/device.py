"""Compute device choice: CUDA, then Apple MPS, then CPU; a preference overrides. CPU thread count."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterable

import torch

from engine.errors import EngineError

DEVICE_NAMES = ("auto", "cuda", "mps", "cpu")


class DeviceUnavailableError(EngineError):
    """The requested compute device is not available on this machine."""


class ThreadCountError(EngineError, ValueError):
    """A CPU thread count that is not a whole number >= 0."""


def pick_device(preference: str | None = None) -> torch.device:
    """`None`/"auto": the best available; "cuda", "cuda:1", "mps" or "cpu": that one, or an error saying why not."""
    if preference in (None, "", "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    name = str(preference).lower()
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceUnavailableError(f"device {preference!r}: CUDA is not available here (no NVIDIA GPU or a "
                                         "CPU-only torch build); use 'auto' or 'cpu'")
        return torch.device(name)
    if name == "mps":
        if not (getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()):
            raise DeviceUnavailableError("device 'mps': Apple Metal is not available here; use 'auto' or 'cpu'")
        return torch.device("mps")
    if name == "cpu":
        return torch.device("cpu")
    raise DeviceUnavailableError(f"device {preference!r}: unknown; choose one of {', '.join(DEVICE_NAMES)}")


SYSFS_CPUS = Path("/sys/devices/system/cpu")


def physical_cpu_cores(*, cpus: Iterable[int] | None = None, sysfs: Path = SYSFS_CPUS) -> int:
    """Physical cores among the logical CPUs this process may run on (at least 1).

    Linux: logical CPUs that share a core (hyper-threads) list the same `topology/thread_siblings_list` in sysfs and
    count once; `cpus` defaults to this process's CPU affinity (so `taskset -c 0` gives 1). macOS: `sysctl
    hw.physicalcpu`. Elsewhere, or where the topology cannot be read: the logical CPU count (an over-count on
    machines with hyper-threading).
    """
    if cpus is None and sys.platform == "darwin":
        try:
            out = subprocess.run(["sysctl", "-n", "hw.physicalcpu"], capture_output=True, text=True, timeout=5)
            return max(1, int(out.stdout.strip()))
        except (OSError, ValueError, subprocess.SubprocessError):
            return max(1, os.cpu_count() or 1)
    if cpus is None:
        cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    cpus = sorted(set(cpus))
    cores = set()
    for cpu in cpus:
        try:
            cores.add((sysfs / f"cpu{cpu}" / "topology" / "thread_siblings_list").read_text(encoding="ascii").strip())
        except OSError:
            return max(1, len(cpus))
    return max(1, len(cores))


def torch_threads(requested: int = 0) -> int:
    """CPU threads for torch: `requested` when above 0, else one per physical core (`physical_cpu_cores`).

    A second thread on a core (hyper-threading) shares that core's vector units; threads beyond the process's
    CPUs only wait their turn. torch's own default is usually this number too; asking for it by name keeps it
    whatever the torch build. `benchmarks/plain_speed.py` measures thread counts (docs/RESULTS.md, "plain-speed").
    """
    if isinstance(requested, bool) or not isinstance(requested, int) or requested < 0:
        raise ThreadCountError(f"torch threads: expected 0 (one per physical core) or a positive count, "
                               f"got {requested!r}")
    return requested or physical_cpu_cores()
