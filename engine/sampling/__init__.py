"""Differentiable sampling through real diffusers schedulers (see `engine.sampling.loop`)."""

from engine.models.schedulers import SCHEDULERS, build_scheduler
from engine.sampling.loop import sample

__all__ = ["sample", "SCHEDULERS", "build_scheduler"]
