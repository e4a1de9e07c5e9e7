"""Model names -> loaders. `load_model` caches one instance per (name, device).

Names: "builtin", "builtin-tiny", the diffusers models "stable-audio-open", "audioldm2-music", "musicldm" (from
local weights only, see engine.models.adapters.resolve) and their random-weight "<name>-tiny" versions, or a path:
a built-in weights file (.safetensors), a diffusers pipeline folder (read through its model_index.json), a Hugging
Face cache folder, or an owner/repository id already in the local cache.
"""

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

DIFFUSERS_MODELS = ("stable-audio-open", "audioldm2-music", "musicldm")


def _diffusers_known(name: str) -> Loader:
    """A released diffusers model, found in DITTO_BRIDGE_MODELS or the local Hugging Face cache (never downloaded)."""
    def load(device: torch.device) -> DiffusionModel:
        from engine.models.adapters.loading import load_adapter
        from engine.models.adapters.resolve import resolve_known

        return load_adapter(resolve_known(name), device)
    return load


def _diffusers_tiny(kind: str) -> Loader:
    """The tiny random-weight version of a diffusers pipeline, built in code (checks the path without weights)."""
    def load(device: torch.device) -> DiffusionModel:
        from engine.models.adapters.tiny import tiny_adapter

        return tiny_adapter(kind, text_encoders=True).to(device)
    return load


for _name in DIFFUSERS_MODELS:
    register(_name, _diffusers_known(_name))
    register(f"{_name}-tiny", _diffusers_tiny(_name))


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
    repo_id = (name.count("/") == 1 and not path.exists() and not name.startswith((".", "/", "~"))
               and path.suffix != ".safetensors")
    if path.is_dir() or repo_id:
        from engine.models.adapters.resolve import resolve_path

        folder = resolve_path(name)  # a pipeline folder, a cache repository folder or an owner/repository id

        def load_folder(device: torch.device) -> DiffusionModel:
            from engine.models.adapters.loading import load_adapter

            return load_adapter(folder, device, name=name)
        return load_folder
    if path.suffix == ".safetensors" and path.is_file():
        def load(device: torch.device) -> DiffusionModel:
            from engine.models.builtin.model import from_weights
            from engine.models.builtin.weights import load_weights

            return from_weights(load_weights(path), name=str(path)).to(device)
        return load
    raise ModelNotFoundError(f"model {name!r}: not a known model ({', '.join(model_names())}), not a built-in "
                             "weights file (.safetensors) and not a diffusers pipeline folder on this disk")
