"""Model names -> loaders. `load_model` caches one instance per (name, device)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

import torch

from engine.errors import ModelNotFoundError
from engine.models.base import DiffusionModel

Loader = Callable[[torch.device], DiffusionModel]
_LOADERS: dict[str, Loader] = {}
_CACHE: dict[tuple[str, str], DiffusionModel] = {}
_LOCK = threading.Lock()


def register(name: str, loader: Loader) -> None:
    _LOADERS[name] = loader


def _builtin(device: torch.device) -> DiffusionModel:
    from engine.models.builtin.model import load_builtin

    return load_builtin().to(device)


def _builtin_tiny(device: torch.device) -> DiffusionModel:
    from engine.models.builtin.model import load_builtin

    return load_builtin(tiny=True).to(device)


register("builtin", _builtin)
register("builtin-tiny", _builtin_tiny)


def model_names() -> list[str]:
    return sorted(_LOADERS)


def load_model(name: str = "builtin", device: torch.device | str | None = None) -> DiffusionModel:
    """The model called `name` (or a local path a registered adapter understands) on `device` (default: best)."""
    from engine.device import pick_device

    device = device if isinstance(device, torch.device) else pick_device(device)
    key = (name, str(device))
    with _LOCK:
        if key not in _CACHE:
            loader = _LOADERS.get(name)
            if loader is None:
                loader = _path_loader(name)
            _CACHE[key] = loader(device)
        return _CACHE[key]


def _path_loader(name: str) -> Loader:
    path = Path(name).expanduser()
    if path.suffix == ".safetensors" and path.is_file():
        def load(device: torch.device) -> DiffusionModel:
            from engine.models.builtin.model import from_weights
            from engine.models.builtin.weights import load_weights

            return from_weights(load_weights(path), name=str(path)).to(device)
        return load
    raise ModelNotFoundError(f"model {name!r}: not a known model ({', '.join(model_names())}) and not a "
                             "built-in weights file (.safetensors) on this disk")
