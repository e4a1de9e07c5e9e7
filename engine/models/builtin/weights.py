"""Save and load the built-in model's weights: one safetensors file inside the package.

The file holds the denoiser's state dict (fp16 on disk), the per-mel-bin normalization (`norm.mean`, `norm.std`,
natural-log mel units, `(n_mels,)`) and metadata: the network config, the tag vocabulary, the noise schedule and
training facts (steps, wall time). Loading needs nothing but this file: no network, no hub.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save

from engine.errors import ModelNotFoundError
from engine.models.builtin.network import NetworkConfig
from engine.safe_files import write_file

WEIGHTS_NAME = "builtin.safetensors"


@dataclass
class BuiltinWeights:
    network_config: NetworkConfig
    state_dict: dict[str, torch.Tensor]
    mel_mean: torch.Tensor
    mel_std: torch.Tensor
    tags: tuple[str, ...]
    schedule: dict[str, Any]
    training: dict[str, Any]


def packaged_weights_path() -> Path:
    """Where the shipped weights live inside the installed package."""
    return Path(str(resources.files("engine.models.builtin").joinpath("weights", WEIGHTS_NAME)))


def save_weights(path: Path, weights: BuiltinWeights) -> None:
    """Write atomically, file mode 0o644 (`engine.safe_files.write_file`)."""
    tensors = {f"net.{k}": v.detach().to(torch.float16).contiguous() for k, v in weights.state_dict.items()}
    tensors["norm.mean"] = weights.mel_mean.float().contiguous()
    tensors["norm.std"] = weights.mel_std.float().contiguous()
    metadata = {
        "network_config": json.dumps(weights.network_config.to_dict()),
        "tags": json.dumps(list(weights.tags)),
        "schedule": json.dumps(weights.schedule),
        "training": json.dumps(weights.training),
    }
    write_file(path, lambda handle: handle.write(save(tensors, metadata=metadata)), mode=0o644)


def load_weights(path: Path | None = None) -> BuiltinWeights:
    """Read the weights (default: the packaged file); raises ModelNotFoundError naming the path looked at."""
    path = Path(path) if path is not None else packaged_weights_path()
    if not path.is_file():
        raise ModelNotFoundError(
            f"built-in model weights not found at {path}. Reinstall the package, or train them with "
            "`python -m engine.training.train` (see docs/MODEL_CARD.md)")
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
    tensors = load_file(str(path))
    state = {k[len("net."):]: v.float() for k, v in tensors.items() if k.startswith("net.")}
    return BuiltinWeights(
        network_config=NetworkConfig.from_dict(json.loads(metadata["network_config"])),
        state_dict=state,
        mel_mean=tensors["norm.mean"].float(),
        mel_std=tensors["norm.std"].float(),
        tags=tuple(json.loads(metadata["tags"])),
        schedule=json.loads(metadata["schedule"]),
        training=json.loads(metadata.get("training", "{}")),
    )
