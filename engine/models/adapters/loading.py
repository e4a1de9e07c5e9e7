"""Load a resolved pipeline folder into its adapter, with downloads switched off.

The pipeline class named by `model_index.json` loads every component from the folder (`local_files_only=True`,
`HF_HUB_OFFLINE=1` for the duration); the adapter then takes the networks it samples and decodes with, and the
tokenizers / text encoders it encodes prompts with once per job.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from typing import Iterator

import torch

from engine.errors import EngineError, ModelNotFoundError
from engine.models.adapters.common import DiffusersAdapter, pick_compute_dtype
from engine.models.adapters.resolve import PipelineFolder

logger = logging.getLogger(__name__)

OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")


class ModelLoadError(EngineError):
    """A pipeline folder was found but could not be loaded (missing Python package, corrupt file)."""


@contextlib.contextmanager
def offline() -> Iterator[None]:
    """Switch the Hugging Face libraries to offline mode while loading; restore the environment after."""
    saved = {name: os.environ.get(name) for name in OFFLINE_VARIABLES}
    os.environ.update({name: "1" for name in OFFLINE_VARIABLES})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _stable_audio_scheduler(folder: PipelineFolder):
    """The pipeline names CosineDPMSolverMultistepScheduler, whose import needs torchsde; the adapter reads only
    its sigma settings, so an EDMDPMSolverMultistepScheduler is built from the same config file instead."""
    from diffusers import EDMDPMSolverMultistepScheduler

    config = json.loads((folder.path / "scheduler" / "scheduler_config.json").read_text())
    keys = ("sigma_min", "sigma_max", "sigma_data", "prediction_type", "num_train_timesteps")
    return EDMDPMSolverMultistepScheduler(**{k: config[k] for k in keys if k in config})


def _dtype_keyword() -> str:
    """diffusers renamed from_pretrained's `torch_dtype` to `dtype` (the old name warns); probe which one it takes."""
    from diffusers.utils import deprecation_utils

    return "dtype" if hasattr(deprecation_utils, "_resolve_dtype") else "torch_dtype"


def load_pipeline(folder: PipelineFolder, compute_dtype: torch.dtype):
    """The diffusers pipeline of `folder`, every component read from disk, in `compute_dtype`."""
    try:
        import diffusers

        pipeline_class = getattr(diffusers, folder.pipeline_class)
        overrides = {}
        if folder.pipeline_class == "StableAudioPipeline":
            overrides["scheduler"] = _stable_audio_scheduler(folder)
        if folder.variant:
            overrides["variant"] = folder.variant
        overrides[_dtype_keyword()] = compute_dtype
        with offline():
            return pipeline_class.from_pretrained(str(folder.path), local_files_only=True, **overrides)
    except ImportError as error:
        raise ModelLoadError(f"{folder.path}: loading {folder.pipeline_class} needs a Python package that is not "
                             f"installed ({error}); install the extra: pip install 'ditto-bridge[diffusers-models]'"
                             ) from error
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        raise ModelLoadError(f"{folder.path}: {folder.pipeline_class} could not be loaded ({error})") from error


def adapter_from_pipeline(pipe, model: str, **kwargs) -> DiffusersAdapter:
    """Wrap a loaded pipeline in the adapter for `model` ("stable-audio-open", "audioldm2-music" or "musicldm")."""
    from engine.models.adapters.audioldm2 import AudioLDM2Adapter
    from engine.models.adapters.musicldm import MusicLDMAdapter
    from engine.models.adapters.stable_audio import StableAudioAdapter

    adapters = {"stable-audio-open": StableAudioAdapter, "audioldm2-music": AudioLDM2Adapter,
                "musicldm": MusicLDMAdapter}
    if model not in adapters:
        raise ModelNotFoundError(f"no adapter for {model!r}; known: {', '.join(adapters)}")
    return adapters[model].from_pipeline(pipe, **kwargs)


def load_adapter(folder: PipelineFolder, device: torch.device | str, *, dtype: str | torch.dtype | None = None,
                 name: str | None = None, **kwargs) -> DiffusersAdapter:
    """Load `folder` and return its adapter on `device`; `dtype` picks the compute dtype (default: by device)."""
    device = torch.device(device)
    compute_dtype = pick_compute_dtype(device, dtype)
    pipe = load_pipeline(folder, compute_dtype)
    try:
        adapter = adapter_from_pipeline(pipe, folder.model, compute_dtype=compute_dtype, name=name or folder.model,
                                        source=str(folder.path), **kwargs)
    except (ValueError, AttributeError, KeyError) as error:
        raise ModelLoadError(f"{folder.path}: the {folder.pipeline_class} components do not fit the {folder.model} "
                             f"adapter ({error})") from error
    logger.info("loaded %s from %s on %s (%s)", folder.model, folder.path, device, compute_dtype)
    return adapter.to(device)
