"""Diffusers adapters: Stable Audio Open, AudioLDM2 and MusicLDM behind the engine's `DiffusionModel` interface,
loaded from weights already on this disk (a pipeline folder or the local Hugging Face cache), never downloaded."""

from engine.models.adapters.audioldm2 import AudioLDM2Adapter
from engine.models.adapters.common import DiffusersAdapter, PrecomputedPrompts, pick_compute_dtype
from engine.models.adapters.musicldm import MusicLDMAdapter
from engine.models.adapters.stable_audio import StableAudioAdapter

__all__ = ["AudioLDM2Adapter", "DiffusersAdapter", "MusicLDMAdapter", "PrecomputedPrompts", "StableAudioAdapter",
           "pick_compute_dtype"]
