"""Baselines the evaluation compares DITTO with, on the same model and sampler interface.

- `masking`: naive masking (in-painting, out-painting, looping): the known region is replaced at every step.
- `multidiffusion`: MultiDiffusion (out-painting, looping): windows on a shared canvas, averaged where they overlap.
- `freedom`: FreeDoM: training-free guidance with the gradient of the control loss on the one-step clean estimate.
- `doodl`: DOODL: optimization of x_T through an invertible EDICT sampler with momentum SGD.
"""

from engine.baselines.doodl import DoodlSettings, doodl_optimize, edict_sample
from engine.baselines.freedom import FreedomSettings, freedom_sample
from engine.baselines.masking import known_region, masked_sample
from engine.baselines.multidiffusion import CanvasPlan, Window, canvas_noise, multidiffusion_sample, plan_for
from engine.baselines.schedule import BaselineError

__all__ = ["BaselineError", "CanvasPlan", "DoodlSettings", "FreedomSettings", "Window",
           "canvas_noise", "doodl_optimize", "edict_sample", "freedom_sample", "known_region", "masked_sample",
           "multidiffusion_sample", "plan_for"]
