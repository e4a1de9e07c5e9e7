"""Compute device choice: CUDA, then Apple MPS, then CPU; a preference overrides."""

from __future__ import annotations

import torch

from engine.errors import EngineError

DEVICE_NAMES = ("auto", "cuda", "mps", "cpu")


class DeviceUnavailableError(EngineError):
    """The requested compute device is not available on this machine."""


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
