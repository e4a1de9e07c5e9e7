"""Differentiable sampling through real diffusers schedulers (see `engine.sampling.loop`)."""

from engine.sampling.loop import SamplerSettings, sample
from engine.sampling.schedulers import SCHEDULERS, build_scheduler

__all__ = ["SamplerSettings", "sample", "SCHEDULERS", "build_scheduler"]
